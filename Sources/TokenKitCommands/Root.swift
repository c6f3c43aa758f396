import ArgumentParser
import Foundation
import TokenKit
import TokenKitCore
import TokenKitText

/// `tokenkit`: the command-line front end. Commands are thin: they parse flags, call the
/// library and format its results.
public struct TokenKitCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tokenkit",
        abstract: "Fast, exact tokenizers: encode, decode, count, inspect and convert.",
        discussion: """
            Models are detected from their content: HF tokenizer.json, tiktoken rank files, GPT-2
            vocab.json (+ merges.txt) and SentencePiece .model files. Errors go to stderr as `tokenkit: error: FILE: what is wrong`;
            exit codes: 0 success, 1 bad input, 2 bad usage. Sizes (--vocab-size, --merges, --sample-bytes …)
            take k, M and G suffixes: 8k = 8192, 4M = 4,194,304, 1G = 2^30.

            Examples:
              tokenkit encode -m cl100k_base.tiktoken notes.txt
              tokenkit count -m tokenizer.json --format json *.txt
              echo "15496 995" | tokenkit decode -m r50k_base.tiktoken
            """,
        version: "0.1.0",
        subcommands: [Encode.self, Decode.self, Count.self, Info.self, Convert.self, Train.self, CountWords.self, CountSuperwords.self, MergeCounts.self, Supertokens.self, Mixture.self, MixtureEval.self, Premium.self, LM.self, Surprisal.self, Evaluate.self, ByteProb.self, Inspect.self])

    public init() {}

    /// Runs the command line and exits with tokenkit's codes.
    public static func main(arguments: [String]? = nil) {
        do {
            var command = try parseAsRoot(withOptionalValues(arguments ?? Array(CommandLine.arguments.dropFirst())))
            try command.run()
        } catch let e as TokenKitError {
            printError(describe(e))
            Foundation.exit(e.exitCode)
        } catch {
            let code = exitCode(for: error)
            if code == .success || error is CleanExit {
                if let help = HelpText.reformat(fullMessage(for: error)) {
                    print(help, terminator: "")
                    Foundation.exit(0)
                }
                exit(withError: error)
            }
            printError(message(for: error))
            let usage = usageString(for: error)
            if !usage.isEmpty { FileHandle.standardError.write(Data((usage + "\n").utf8)) }
            Foundation.exit(2)
        }
    }

    /// Options whose value may be left out, with the value they then take.
    static let optionalValues = ["--stochastok": "0.1"]

    /// Options that give a size, where k and M (×1024, ×1024²) are accepted, as in --train-sizes.
    static let sizeOptions: Set = ["--vocab-size", "--sample-bytes", "--train-bytes", "--merges", "--max-sentence-length",
                                   "--max-token-length", "--target-tokens", "--chunk-size"]

    /// `--stochastok` alone means the paper's 0.1: the default is inserted when the next word is
    /// not a number (argument parsing has no options with an optional value). Sizes with a k or M
    /// suffix are written out.
    static func withOptionalValues(_ args: [String]) -> [String] {
        var out: [String] = []
        for (i, a) in args.enumerated() {
            if let eq = a.firstIndex(of: "="), sizeOptions.contains(String(a[..<eq])), let n = size(String(a[a.index(after: eq)...])) {
                out.append(String(a[..<eq]) + "=\(n)")
            } else if i > 0, sizeOptions.contains(args[i - 1]), let n = size(a) {
                out.append(String(n))
            } else {
                out.append(a)
            }
            if let value = optionalValues[a], i + 1 == args.count || Double(args[i + 1]) == nil { out.append(value) }
        }
        return out
    }

    /// "8k" → 8192, "4M" → 4194304, "1G" → 2^30 (as `ByteCount` reads them); nil for anything
    /// else (plain numbers pass through as they are).
    static func size(_ s: String) -> Int? {
        guard let last = s.last, !last.isNumber else { return nil }
        return ByteCount(argument: s)?.value
    }

    /// A library error in command-line terms: the flag of the setting it is about.
    static func describe(_ e: TokenKitError) -> String {
        guard let setting = e.setting else { return e.description }
        var copy = e
        switch setting {
        case .specialTokens:
            copy.message += "; allow it with --allowed-special, or encode it as text with --disallowed-special none"
        case .hardVocabLimit:
            copy.message += " (allow fewer with --no-hard-vocab-limit)"
        default:
            copy.message = "--\(flagNames[setting] ?? setting.rawValue): " + copy.message
        }
        return copy.description
    }

    static let flagNames: [TokenKitError.Setting: String] = [
        .vocabSize: "vocab-size", .characterCoverage: "character-coverage", .merges: "merges", .categories: "category",
        .mix: "mix", .trainSizes: "train-sizes", .pivot: "pivot", .targetTokens: "target-tokens", .pattern: "pattern",
        .preTokenizer: "pre-tokenizer", .normalizer: "normalizer",
    ]

    static func usageString(for error: Error) -> String {
        let full = fullMessage(for: error)
        guard let r = full.range(of: "Usage:") else { return "" }
        return String(full[r.lowerBound...]).components(separatedBy: "\n").prefix(2).joined(separator: "\n")
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data("tokenkit: error: \(message)\n".utf8))
}

func note(_ message: String, quiet: Bool) {
    if !quiet { FileHandle.standardError.write(Data("tokenkit: \(message)\n".utf8)) }
}

/// For tests: the argument rewriting done before parsing (`--stochastok` alone, k/M sizes).
public enum TokenKitCommandSupport {
    public static func expand(_ args: [String]) -> [String] { TokenKitCommand.withOptionalValues(args) }
}

/// `--special-tokens A,B,…` naming a token twice would give it two ids.
func refuseRepeatedSpecials(_ list: String?) throws {
    let specials = (list ?? "").split(separator: ",")
    if let twice = specials.first(where: { s in specials.filter { $0 == s }.count > 1 }) {
        throw ValidationError("--special-tokens lists \(String(twice).debugDescription) twice")
    }
}

/// Notes for a tiktoken rank file written from `tok`: the file holds ranks only, so it says how
/// to load it with the same split (`--pattern`), or that the split or normalizer is lost.
func rankFileNotes(_ tok: Tokenizer, path: String, quiet: Bool) {
    var pattern: String?
    var steps: [PreTokenizer] = [tok.preTokenizer]
    if case .sequence(let s) = tok.preTokenizer { steps = s }
    steps.removeAll { if case .byteLevel(false, false) = $0 { return true } else { return false } }
    // Every scanner's name is a --pattern value.
    if let b = tok.preTokenizer.scanner {
        pattern = b.rawValue
    } else if steps.count == 1, case .regex(let re, let behavior, let invert) = steps[0],
              behavior == .removed && invert || behavior == .isolated && !invert {
        // tiktoken encodes a pattern's matches only: the same split when nothing is left between them.
        pattern = "'\(re.pattern)'" + (behavior == .isolated ? " (text it does not match would be dropped)" : "")
    }
    if let pattern {
        note("\(path) holds ranks only: load it with --pattern \(pattern) to split text as \(tok.name) does", quiet: quiet)
    } else {
        note("warning: \(path) holds ranks only, and \(tok.name)'s pre-tokenizer (\(tok.patternDescription)) is no single split "
             + "pattern: loading it with --pattern gives other ids", quiet: quiet)
    }
    if tok.normalizer != nil {
        note("warning: \(path) holds ranks only: \(tok.name)'s normalizer is not kept, so the same text may give other ids", quiet: quiet)
    }
}
