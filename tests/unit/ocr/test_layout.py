"""Acte paragraphs, from words placed by hand (no engine)."""

from __future__ import annotations

import pytest

from ocrmp.ocr.acte import paragraphs_text
from ocrmp.ocr.engines import Word, parse_tsv, recognition_from_words

H = 30  # text height in pixels


def line(texts: list[str], top: int, xs: list[int], key: tuple[int, int, int] = (1, 1, 1),
         conf: float = 90.0) -> list[Word]:
    return [Word(t, conf, x, top, 18 * len(t), H, key) for t, x in zip(texts, xs, strict=True)]


def test_paragraphs_from_wider_gaps_and_tesseract_paragraphs() -> None:
    words = (line(["Le", "vendeur"], 100, [0, 60], (1, 1, 1))
             + line(["déclare."], 145, [0], (1, 1, 2))
             + line(["Lequel"], 215, [0], (1, 1, 3))  # a gap half again as tall
             + line(["vend."], 260, [0], (1, 1, 4))
             + line(["Fin"], 305, [0], (1, 2, 1)))  # tesseract's own paragraph
    assert paragraphs_text(words) == "Le vendeur\ndéclare.\n\nLequel\nvend.\n\nFin"
    assert paragraphs_text([]) == ""


def test_tsv_and_words_give_text_and_one_confidence() -> None:
    tsv = ("level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight"
           "\tconf\ttext\n"
           "4\t1\t1\t1\t1\t0\t10\t10\t100\t30\t-1\t\n"
           "5\t1\t1\t1\t1\t1\t10\t10\t40\t30\t96.5\tActe\n"
           "5\t1\t1\t1\t1\t2\t60\t10\t40\t30\t90.5\tde\n"
           "5\t1\t1\t1\t2\t1\t10\t50\t40\t30\t80\tvente\n"
           "5\t1\t1\t1\t2\t2\t60\t50\t40\t30\t95\t \n"
           "5\t1\t1\t2\t1\t1\t10\t90\t40\t30\t88\tFin\n")
    words = parse_tsv(tsv)
    assert [w.text for w in words] == ["Acte", "de", "vente", "Fin"]
    assert words[0].line_key == (1, 1, 1) and words[0].right == 50
    recognition = recognition_from_words(words)
    assert recognition.text == "Acte de\nvente\n\nFin"
    assert recognition.mean_confidence == pytest.approx((96.5 + 90.5 + 80 + 88) / 4)
