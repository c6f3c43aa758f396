import TokenKitCommands

TokenKitCommand.main()
