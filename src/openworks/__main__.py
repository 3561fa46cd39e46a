from openworks.cli import main

main()
