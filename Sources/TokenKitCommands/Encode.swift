import ArgumentParser
import Foundation
import TokenKit
import TokenKitCore
import TokenKitModels
import TokenKitSentencePiece

enum EncodeFormat: String, ExpressibleByArgument, CaseIterable {
    /// `pieces`: tokens as readable text; `vocab-pieces`: as the vocabulary file spells them
    /// (GPT-2's byte alphabet for byte-level models).
    case ids, pieces, vocabPieces = "vocab-pieces", json, jsonl, bin
}

enum BinDType: String, ExpressibleByArgument, CaseIterable {
    case auto, u16, u32
}

struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Encode text files (or stdin) into token ids.",
        discussion: """
            Whole files are one document each (one output line, array or record per file); with --lines
            every line is a document. `bin` writes little-endian uint16 (vocabularies up to 65,536 ids) or
            uint32 ids with no separators, for LM training. Large inputs stream in bounded memory.

            Examples:
              tokenkit encode -m cl100k_base.tiktoken README.md
              cat notes.txt | tokenkit encode -m tokenizer.json --format pieces -
              tokenkit encode -m tokenizer.json --lines --format jsonl corpus.txt -o corpus.jsonl
              tokenkit encode -m r50k_base.tiktoken --format bin -o train.bin corpus.txt
              tokenkit encode -m tokenizer.json --stochastok 0.1 --seed 1 --epochs 3 --format bin -o train.bin corpus.txt

            Stochastic encodings (StochasTok, BPE-dropout) are reproducible from --seed for any --threads;
            with --format bin and -o, a JSON sidecar (OUT.json) gives the dtype, token count and seed.
            """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var special: SpecialOptions
    @OptionGroup var runOptions: RunOptions

    @Option(help: "Output format: ids, pieces (tokens as text, ␣ for a space, \\xNN for a byte that is part of a character), vocab-pieces (as the vocabulary spells them), json, jsonl or bin.")
    var format: EncodeFormat = .ids

    @Flag(help: "Encode every line as its own document.")
    var lines = false

    @Option(help: "Integer width for --format bin: auto, u16 or u32.")
    var dtype: BinDType = .auto

    @Option(name: .shortAndLong, help: "Write to this file (atomically) instead of stdout.")
    var output: String?

    @Option(help: "StochasTok: split tokens at random with this expand rate; given without a value, 0.1 (the paper's).")
    var stochastok: Double?

    @Option(help: "BPE-dropout probability (SentencePiece's variant: a skipped merge is discarded).")
    var dropout: Double?

    @Option(help: "Unigram sampling (Unigram models): smoothing alpha; alone it samples from all segmentations (forward-filtering backward-sampling).")
    var alpha: Double?

    @Option(help: "Unigram n-best sampling: sample among the N best segmentations (with --alpha, default 0.1).")
    var nbest: Int?

    @Option(help: "Seed for every stochastic option; the same seed gives the same output for any --threads.")
    var seed: UInt64 = 0

    @Option(help: "Write this many independently sampled encodings (with -o: OUT.e0, OUT.e1 …).")
    var epochs: Int = 1

    @Argument(help: "Input files; - or none for stdin.")
    var files: [String] = []

    func validate() throws {
        for (name, p) in [("--stochastok", stochastok), ("--dropout", dropout)] {
            if let p, !(0...1).contains(p) { throw ValidationError("\(name) must be between 0 and 1") }
        }
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1") }
        if epochs > 1 && stochastok == nil && dropout == nil && alpha == nil && nbest == nil {
            throw ValidationError("--epochs needs a stochastic option (--stochastok, --dropout, --alpha or --nbest)")
        }
    }

    /// BPE models, tokenizer.json's or SentencePiece's, have merges to drop.
    static func takesDropout(_ model: TokenizerModel) -> Bool {
        switch model {
        case .bpe: true
        case .sentencePiece(let spm): spm.modelType == .bpe
        case .unigram, .wordPiece: false
        }
    }

    var isStochastic: Bool { stochastok != nil || dropout != nil || alpha != nil || nbest != nil }

    mutating func run() throws {
        let tok = try model.load()
        if alpha != nil || nbest != nil, tok.sentencePiece?.modelType != .unigram {
            throw TokenKitError.usage("--alpha and --nbest sample Unigram segmentations; \(tok.name) is a \(tok.modelName) model (use --dropout or --stochastok)")
        }
        if dropout != nil, !Encode.takesDropout(tok.model) {
            throw TokenKitError.usage("--dropout skips BPE merges; \(tok.name) is a \(tok.modelName) model (use --stochastok, or --alpha for Unigram sampling)")
        }
        let inputs = files.isEmpty ? ["-"] : files
        var sampling: EncodeDriver.Sampling?
        if isStochastic {
            sampling = EncodeDriver.Sampling(seed: seed, dropout: dropout ?? 0,
                                             stochasTok: stochastok.map { _ in tok.makeStochasTok() }, stochasTokP: stochastok ?? 0.1)
            if alpha != nil || nbest != nil {
                // spm's defaults: alpha 0.1 with n-best sampling, -1 (all segmentations) otherwise.
                sampling?.alpha = alpha ?? 0.1
                sampling?.nbestSize = nbest ?? -1
            }
        }
        for epoch in 0..<epochs {
            sampling?.epoch = epoch
            let path = output.map { epochs > 1 ? EncodeCommandSupport.epochPath($0, epoch) : $0 }
            let out = try Output(path: path)
            let writer = try IDWriter(format: format, tokenizer: tok, dtype: dtype, out: out,
                                      documents: lines || inputs.count > 1)
            var driver = EncodeDriver(tokenizer: tok, policy: special.policy(for: tok), threads: runOptions.threads, lines: lines)
            driver.sampling = sampling
            var tokens = 0
            for path in inputs {
                let progress = Progress(total: 0, label: epochs > 1 ? "epoch \(epoch + 1)/\(epochs)" : "encoding", quiet: runOptions.quiet)
                var started = false
                do {
                    try driver.run(path, progress: { progress.update($0, of: $1) }) { chunk in
                        for d in chunk.documents { tokens += d.count }
                        if lines {
                            for d in chunk.documents { try writer.document(d, file: nil) }
                        } else {
                            if !started { try writer.begin(file: path); started = true }
                            try writer.add(chunk.documents[0])
                        }
                    }
                } catch let e as TokenKitError {
                    throw e.inFile(path)
                }
                progress.finish()
                if !lines {
                    if !started { try writer.begin(file: path) }
                    try writer.end()
                }
            }
            try writer.close()
            try out.finish()
            if format == .bin, let path {
                try writeFileAtomically(path + ".json", Array(sidecar(tok, tokens: tokens, wide: writer.wide, epoch: epoch, inputs: inputs).utf8))
            }
        }
    }

    /// The JSON written beside a `bin` file, so training code can memory-map it.
    func sidecar(_ tok: Tokenizer, tokens: Int, wide: Bool, epoch: Int, inputs: [String]) -> String {
        var fields = [
            "\"tokenizer\": \(jsonString(tok.name))", "\"vocab_size\": \(tok.vocabSize)",
            "\"dtype\": \"\(wide ? "uint32" : "uint16")\"", "\"byte_order\": \"little\"", "\"tokens\": \(tokens)",
            "\"inputs\": [\(inputs.map(jsonString).joined(separator: ", "))]",
        ]
        if isStochastic {
            fields += ["\"seed\": \(seed)", "\"epoch\": \(epoch)", "\"epochs\": \(epochs)"]
            if let stochastok { fields.append("\"stochastok\": \(stochastok)") }
            if let dropout { fields.append("\"dropout\": \(dropout)") }
            if let alpha { fields.append("\"alpha\": \(alpha)") }
            if let nbest { fields.append("\"nbest\": \(nbest)") }
        }
        return "{\n  " + fields.joined(separator: ",\n  ") + "\n}\n"
    }
}

enum EncodeCommandSupport {
    /// `train.bin` → `train.e3.bin` (the epoch goes before the extension).
    static func epochPath(_ path: String, _ epoch: Int) -> String {
        let slash = path.lastIndex(of: "/").map { path.index(after: $0) } ?? path.startIndex
        if let dot = path[slash...].lastIndex(of: "."), dot > slash {
            return String(path[..<dot]) + ".e\(epoch)" + String(path[dot...])
        }
        return path + ".e\(epoch)"
    }
}

/// Writes documents of ids in one of the encode formats, streaming.
final class IDWriter {
    let format: EncodeFormat
    let tok: Tokenizer
    let out: Output
    let wide: Bool
    /// Several documents (files or lines) rather than one.
    let many: Bool
    var count = 0
    var first = true

    init(format: EncodeFormat, tokenizer: Tokenizer, dtype: BinDType, out: Output, documents: Bool) throws {
        self.format = format
        tok = tokenizer
        self.out = out
        many = documents
        switch dtype {
        case .auto: wide = tokenizer.vocabSize > 65536
        case .u16:
            if tokenizer.vocabSize > 65536 {
                throw TokenKitError.usage("--dtype u16 cannot hold this vocabulary's \(tokenizer.vocabSize) ids; use u32")
            }
            wide = false
        case .u32: wide = true
        }
        if format == .json && many { try out.write("[") }
    }

    func begin(file: String?) throws {
        switch format {
        case .json: try out.write((many ? (count > 0 ? ",\n" : "\n") : "") + "[")
        case .jsonl: try out.write(file.map { "{\"file\": \(jsonString($0)), \"ids\": [" } ?? "{\"ids\": [")
        default: break
        }
        first = true
    }

    func add(_ ids: [TokenID]) throws {
        if ids.isEmpty { return }
        var s: [UInt8] = []
        s.reserveCapacity(ids.count * 7)
        switch format {
        case .ids, .json, .jsonl:
            let sep: UInt8 = format == .ids ? 0x20 : 0x2C
            for id in ids {
                if !first { s.append(sep) }
                first = false
                appendDecimal(id, to: &s)
            }
        case .pieces, .vocabPieces:
            for id in ids {
                if !first { s.append(0x20) }
                first = false
                s += Array((format == .pieces ? tok.readablePiece(id) : tok.piece(id)).utf8)
            }
        case .bin:
            for id in ids {
                s.append(UInt8(truncatingIfNeeded: id))
                s.append(UInt8(truncatingIfNeeded: id >> 8))
                if wide {
                    s.append(UInt8(truncatingIfNeeded: id >> 16))
                    s.append(UInt8(truncatingIfNeeded: id >> 24))
                }
            }
        }
        try out.write(s)
    }

    func end() throws {
        switch format {
        case .ids, .pieces, .vocabPieces: try out.write("\n")
        case .json: try out.write("]")
        case .jsonl: try out.write("]}\n")
        case .bin: break
        }
        count += 1
    }

    func document(_ ids: [TokenID], file: String?) throws {
        try begin(file: file)
        try add(ids)
        try end()
    }

    func close() throws {
        if format == .json { try out.write(many ? "\n]\n" : "\n") }
    }
}

@inline(__always)
func appendDecimal(_ v: UInt32, to s: inout [UInt8]) {
    if v < 10 { s.append(0x30 + UInt8(v)); return }
    var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var n = 0
    var x = v
    withUnsafeMutableBytes(of: &digits) { d in
        while x > 0 {
            d[n] = 0x30 + UInt8(x % 10)
            x /= 10
            n += 1
        }
        for k in stride(from: n - 1, through: 0, by: -1) { s.append(d[k]) }
    }
}

