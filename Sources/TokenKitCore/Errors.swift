/// Token ids are plain 32-bit integers everywhere; vocabularies never exceed 2³² entries.
public typealias TokenID = UInt32

/// Every failure tokenkit reports. The message names the file (when there is one) and what is
/// wrong, with a byte offset, line or field where it helps; the CLI prints it as
/// `tokenkit: error: FILE: message` and exits with `exitCode`.
public struct TokenKitError: Error, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Malformed or unsupported input data (exit 1).
        case badInput
        /// A wrong combination of options (exit 2).
        case usage
    }

    /// A library setting an error is about, so a front end can name its own flag for it
    /// (the library's messages never name command-line flags).
    public enum Setting: String, Sendable, Equatable {
        case vocabSize, characterCoverage, hardVocabLimit, specialTokens, merges, categories, mix
        case trainSizes, pivot, targetTokens, pattern, preTokenizer, normalizer
    }

    public var kind: Kind
    public var file: String?
    public var message: String
    public var setting: Setting?

    public init(_ kind: Kind = .badInput, file: String? = nil, _ message: String, setting: Setting? = nil) {
        self.kind = kind
        self.file = file
        self.message = message
        self.setting = setting
    }

    public static func badInput(_ message: String, file: String? = nil, setting: Setting? = nil) -> TokenKitError {
        TokenKitError(.badInput, file: file, message, setting: setting)
    }

    public static func usage(_ message: String, setting: Setting? = nil) -> TokenKitError {
        TokenKitError(.usage, message, setting: setting)
    }

    /// The same error attributed to `file`, unless it already names one.
    public func inFile(_ path: String) -> TokenKitError {
        var copy = self
        if copy.file == nil { copy.file = path }
        return copy
    }

    public var exitCode: Int32 { kind == .usage ? 2 : 1 }

    public var description: String {
        if let file { return "\(file): \(message)" }
        return message
    }
}

/// A text normalization defined outside TokenKitText (e.g. SentencePiece's precompiled
/// character map), plugged into the normalizer pipeline.
public protocol ByteNormalizer: Sendable {
    /// Normalizes UTF-8 bytes (invalid sequences are passed through).
    func normalize(_ text: [UInt8]) -> [UInt8]
}
