from tllint.cli import main

main()
