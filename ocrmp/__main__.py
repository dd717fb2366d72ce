from ocrmp.cli import main

main()
