// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "tokenkit",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "tokenkit", targets: ["tokenkit"]),
        .library(name: "TokenKit", targets: ["TokenKit", "TokenKitFormats"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // ICU behind our own C names: ICU's versioned symbols are macros Swift cannot call,
        // and its headers clash with Foundation's bundled copy.
        .target(name: "CICU", linkerSettings: [.linkedLibrary("icuuc"), .linkedLibrary("icui18n")]),
        .target(name: "TokenKitCore"),
        .target(name: "TokenKitText", dependencies: ["TokenKitCore", "CICU"]),
        .target(name: "TokenKitModels", dependencies: ["TokenKitCore"]),
        .target(name: "TokenKit", dependencies: ["TokenKitCore", "TokenKitText", "TokenKitModels", "TokenKitSentencePiece"]),
        .target(name: "TokenKitFormats", dependencies: ["TokenKit"]),
        .target(name: "TokenKitCommands", dependencies: [
            "TokenKit", "TokenKitFormats", "TokenKitAnalysis", "TokenKitMixture", "TokenKitByteProb",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "tokenkit", dependencies: ["TokenKitCommands"]),
        .target(name: "TokenKitSentencePiece", dependencies: ["TokenKitCore"]),
        .testTarget(name: "SentencePieceTests", dependencies: ["TokenKitSentencePiece"]),
        .target(name: "TokenKitAnalysis", dependencies: ["TokenKit", "TokenKitFormats", "TokenKitModels", "TokenKitCore", "CICU", "TokenKitSentencePiece"]),
        .testTarget(name: "AnalysisTests", dependencies: ["TokenKitAnalysis"]),
        // COIN-OR CLP (Debian coinor-libclp-dev) behind our own C names, for the mixture LP.
        .target(name: "CLP", linkerSettings: [.linkedLibrary("Clp"), .linkedLibrary("CoinUtils")]),
        .target(name: "TokenKitMixture", dependencies: ["TokenKitCore", "TokenKit", "TokenKitFormats", "TokenKitModels", "CLP"]),
        .testTarget(name: "MixtureTests", dependencies: ["TokenKitMixture", "TokenKit", "TokenKitFormats", "TokenKitModels"]),
        .target(name: "TokenKitByteProb", dependencies: ["TokenKit", "TokenKitCore", "TokenKitText"]),
        .testTarget(name: "ByteProbTests", dependencies: ["TokenKitByteProb", "TokenKit", "TokenKitFormats", "TokenKitCore"]),
        .testTarget(name: "TokenKitTests", dependencies: ["TokenKit", "TokenKitFormats", "TokenKitCommands"]),
    ],
    // Language mode 5: the parallel code shares immutable tokenizers across threads by design.
    swiftLanguageModes: [.v5]
)
