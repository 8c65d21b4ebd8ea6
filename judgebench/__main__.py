from judgebench.cli import main

main()
