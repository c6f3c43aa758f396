// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "tokenkit",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "tokenkit", targets: ["tokenkit"]),
        .library(name: "TokenKit", targets: ["TokenKit", "TokenKitFormats", "TokenKitTraining"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // ICU behind our own C names: ICU's versioned symbols are macros Swift cannot call,
        // and its headers clash with Foundation's bundled copy.
        .target(name: "CICU", linkerSettings: [.linkedLibrary("icuuc"), .linkedLibrary("icui18n")]),
        // SHA-256 (x86 SHA extensions when present) and a fast checksum, for model-cache keys and entries.
        .target(name: "CDigest"),
        .target(name: "TokenKitCore", dependencies: ["CDigest"]),
        .target(name: "TokenKitText", dependencies: ["TokenKitCore", "CICU"]),
        // Corpus reading and word counting, shared by every trainer and by mixture sampling.
        .target(name: "TokenKitTraining", dependencies: ["TokenKitCore", "TokenKitText"]),
        // One folder per model (BPE, Unigram, WordPiece, StochasTok), each with its trainer.
        .target(name: "TokenKitModels", dependencies: ["TokenKitCore", "TokenKitTraining"]),
        // The SentencePiece `.model` format: protobuf, specs, precompiled charsmap, spm's encoder.
        .target(name: "TokenKitSentencePiece", dependencies: ["TokenKitCore", "TokenKitModels"]),
        .target(name: "TokenKit", dependencies: ["TokenKitCore", "TokenKitText", "TokenKitModels", "TokenKitSentencePiece"]),
        .target(name: "TokenKitFormats", dependencies: ["TokenKit", "TokenKitTraining"]),
        .target(name: "TokenKitCommands", dependencies: [
            "TokenKit", "TokenKitFormats", "TokenKitAnalysis", "TokenKitMixture", "TokenKitTraining", "TokenKitLM", "TokenKitSuperwords", "TokenKitByteProb",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "tokenkit", dependencies: ["TokenKitCommands"]),
        // Mutation fuzzer over every loader (Scripts/fuzz runs it for a bounded time).
        .executableTarget(name: "tokenkit-fuzz", dependencies: ["TokenKitCommands", "TokenKitCore", "TokenKitFormats"]),
        // SuperBPE stage 2, MWT supertokens, random-chunk training, multi-word statistics.
        .target(name: "TokenKitSuperwords", dependencies: ["TokenKitCore", "TokenKitText", "TokenKitModels", "TokenKit", "TokenKitFormats", "TokenKitTraining"]),
        // Running the built binary from tests (shared by the test targets).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "SuperwordTests", dependencies: ["TokenKitSuperwords", "TokenKit", "TokenKitFormats", "TokenKitModels", "TokenKitTraining", "TestSupport"]),
        .testTarget(name: "SentencePieceTests", dependencies: ["TokenKitSentencePiece", "TokenKitModels"]),
        .target(name: "TokenKitAnalysis", dependencies: ["TokenKit", "TokenKitTraining", "TokenKitFormats", "TokenKitModels", "TokenKitCore", "CICU", "TokenKitSentencePiece"]),
        .testTarget(name: "AnalysisTests", dependencies: ["TokenKitAnalysis"]),
        // COIN-OR CLP (Debian coinor-libclp-dev) behind our own C names, for the mixture LP.
        .target(name: "CLP", linkerSettings: [.linkedLibrary("Clp"), .linkedLibrary("CoinUtils")]),
        .target(name: "TokenKitMixture", dependencies: ["TokenKitCore", "TokenKit", "TokenKitFormats", "TokenKitModels", "TokenKitTraining", "CLP"]),
        .testTarget(name: "MixtureTests", dependencies: ["TokenKitMixture", "TokenKit", "TokenKitFormats", "TokenKitModels"]),
        // tokenkit's byte-level n-gram LM, ByteSpan vocabularies and tokenizer evaluation.
        .target(name: "CPrefetch"),
        .target(name: "TokenKitLM", dependencies: ["CPrefetch", "TokenKitCore", "TokenKitText", "TokenKit", "TokenKitFormats", "TokenKitAnalysis"]),
        .testTarget(name: "ByteLMTests", dependencies: ["TokenKitLM", "TokenKit", "TokenKitFormats", "TokenKitCommands", "TestSupport"]),
        .target(name: "TokenKitByteProb", dependencies: ["TokenKit", "TokenKitCore", "TokenKitText"]),
        .testTarget(name: "ByteProbTests", dependencies: ["TokenKitByteProb", "TokenKit", "TokenKitFormats", "TokenKitCore", "TestSupport"]),
        .testTarget(name: "TokenKitTests", dependencies: ["TokenKit", "TokenKitFormats", "TokenKitCommands", "TokenKitTraining", "TokenKitSentencePiece", "TestSupport"]),
    ],
    // Language mode 5: the parallel code shares immutable tokenizers across threads by design.
    swiftLanguageModes: [.v5]
)
