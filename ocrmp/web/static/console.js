// The overview's live part: fetched again every few seconds and put in place, so the
// counts and the fleet move without reloading the page. Nothing else runs here.
"use strict";
(function () {
  const live = document.getElementById("live");
  if (!live) return;
  const url = live.dataset.refresh;
  const every = Number(live.dataset.every) || 5000;
  async function refresh() {
    try {
      const answer = await fetch(url, {credentials: "same-origin", cache: "no-store"});
      if (answer.ok) live.innerHTML = await answer.text();
    } catch (error) {
      // The console is restarting or the network is down: try again on the next turn.
    }
    setTimeout(refresh, every);
  }
  setTimeout(refresh, every);
})();
