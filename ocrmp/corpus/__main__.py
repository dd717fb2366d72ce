from ocrmp.corpus.cli import main

main()
