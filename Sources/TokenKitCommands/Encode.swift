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

extension StochasTok.AttemptCount: ExpressibleByArgument {}

enum BinDType: String, ExpressibleByArgument, CaseIterable {
    case auto, u16, u32
}

struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Encode text files (or stdin) into token ids.",
        discussion: """
            Whole files are one document each (one output line, array or record per file); with --lines every line is a document. `--format json` is one array of ids for a single whole-file input, and otherwise an array with one array per document (per file, or per line with --lines, in input order); JSONL records carry "file" and "ids". `bin` writes little-endian uint16 (vocabularies up to 65,536 ids) or uint32 ids with no separators (add one with --separator), for LM training; it is refused on a terminal without -o. Large inputs stream in bounded memory.

            SentencePiece .model files encode a whole file as one sentence when the model can spell a line break (byte fallback, as Llama's); otherwise each line is its own sentence (a CR before the line break kept), as spm_encode does, and a note says so.

            Examples:
              tokenkit encode -m cl100k_base.tiktoken README.md
              cat notes.txt | tokenkit encode -m tokenizer.json --format pieces -
              tokenkit encode -m tokenizer.json --lines --format jsonl corpus.txt -o corpus.jsonl
              tokenkit encode -m r50k_base.tiktoken --format bin --separator '<|endoftext|>' -o train.bin docs/*.txt
              tokenkit encode -m tokenizer.json --add-special-tokens --lines corpus.txt
              tokenkit encode -m ./Llama-3.2-1B/ --format bin --separator '<|end_of_text|>' --include '*.md' -o docs.bin docs/
              tokenkit encode -m tokenizer.json --stochastok 0.1 --seed 1 --epochs 3 --format bin -o train.bin corpus.txt
              tokenkit encode -m spm.model --nbest 5 --list --format pieces sentences.txt

            Stochastic encodings (StochasTok, BPE-dropout, Unigram sampling) are reproducible from --seed for any --threads. Without --seed a fresh seed is drawn and printed on stderr. StochasTok makes P·n attempts on average for n tokens (int(P·n) with --stochastok-count floor, the paper's), where n counts each document with --lines and each ~1 MB chunk of a whole file. With --format bin and -o, a JSON sidecar (OUT.json) gives the dtype, token count and seed.
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

    @Option(help: ArgumentHelp("StochasTok's attempts for n tokens: expected (P·n on average: int(P·n), plus one with probability the fraction) or floor (the paper's int(P·n): none while P·n < 1). n counts a document's tokens with --lines, else a ~1 MB chunk's.", valueName: "expected|floor"))
    var stochastokCount: StochasTok.AttemptCount = .expected

    @Option(parsing: .unconditional, help: "Unigram n-best sampling: sample among the N best segmentations (with --alpha, default 0.1); -1 samples from all, as in spm. With --list, list the N best.")
    var nbest: Int?

    @Flag(help: "With --nbest N: print the N best segmentations of every line, best first (spm's nbest_encode), one per line (ids, pieces) or an array per line (json, jsonl).")
    var list = false

    @Option(help: "Seed for every stochastic option; the same seed gives the same output for any --threads. Without it, a fresh seed, printed on stderr and kept in the bin sidecar.")
    var seed: UInt64?

    @Flag(help: "Add the model's own special tokens to every document: tokenizer.json's post-processor (TemplateProcessing, RobertaProcessing, BertProcessing), a SentencePiece .model's BOS.")
    var addSpecialTokens = false

    @Option(help: "With --format bin: a token (its text, such as <|endoftext|>, or its id) written between documents: files, or lines with --lines.")
    var separator: String?

    @Option(help: "Write this many independently sampled encodings (with -o: the epoch goes before the extension, train.bin → train.e0.bin, train.e1.bin …).")
    var epochs: Int = 1

    @Argument(help: "Input files or folders (every file under them); - or none for stdin.")
    var files: [String] = []

    @OptionGroup var inputOptions: InputOptions

    func validate() throws {
        for (name, p) in [("--stochastok", stochastok), ("--dropout", dropout)] {
            if let p, !(0...1).contains(p) { throw ValidationError("\(name) must be between 0 and 1") }
        }
        if let alpha, !(alpha.isFinite && alpha >= 0) { throw ValidationError("--alpha must be a finite number, at least 0") }
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1") }
        if let nbest, nbest < -1 || (list && nbest < 1) {
            throw ValidationError(list ? "--nbest with --list must be at least 1" : "--nbest must be -1 (all segmentations) or at least 0")
        }
        if list && nbest == nil { throw ValidationError("--list needs --nbest N") }
        if list && (alpha != nil || stochastok != nil || dropout != nil || epochs > 1) {
            throw ValidationError("--list prints the n best segmentations; it takes no sampling option")
        }
        if list && (format == .bin || separator != nil) { throw ValidationError("--list writes ids, pieces, json or jsonl") }
        if dtype != .auto && format != .bin { throw ValidationError("--dtype applies to --format bin") }
        if separator != nil && format != .bin { throw ValidationError("--separator applies to --format bin (other formats keep documents apart already)") }
        if epochs > 1 && stochastok == nil && dropout == nil && alpha == nil && nbest == nil {
            throw ValidationError("--epochs needs a stochastic option (--stochastok, --dropout, --alpha or --nbest)")
        }
    }

    /// BPE models, tokenizer.json's or SentencePiece's, have merges to drop.
    static func takesDropout(_ model: TokenizerModel) -> Bool {
        switch model {
        case .bpe: true
        case .sentencePiece(let spm): spm.modelType == .bpe
        case .unigram, .wordPiece, .wordLevel, .longestMatch: false
        }
    }

    var isStochastic: Bool { !list && (stochastok != nil || dropout != nil || alpha != nil || nbest != nil) }

    mutating func run() throws {
        try RunFiles.preflight(outputs: [output], inputs: files + [model.model])
        let tok = try model.load()
        if list {
            try listBest(tok)
            return
        }
        // Unigram sampling runs on SentencePiece's lattice: a Unigram tokenizer.json converts to one.
        let spmUnigram = tok.sentencePiece?.modelType == .unigram
        var samplingHint = spmUnigram ? ", or --alpha for Unigram sampling" : ""
        if case .unigram = tok.model { samplingHint = ", or convert it to a .model (tokenkit convert \(model.model) -o model.model) to sample with --alpha" }
        if alpha != nil || nbest != nil, !spmUnigram {
            throw TokenKitError.usage("--alpha and --nbest sample SentencePiece Unigram models; \(tok.name) is a \(tok.modelName) model "
                                      + "(use --stochastok" + (samplingHint.isEmpty ? " or --dropout)" : "\(samplingHint))"))
        }
        if dropout != nil, !Encode.takesDropout(tok.model) {
            throw TokenKitError.usage("--dropout skips BPE merges; \(tok.name) is a \(tok.modelName) model (use --stochastok\(samplingHint))")
        }
        let inputs = try inputOptions.expand(files)
        let frame = addSpecialTokens ? try tok.postProcessorFrame() : nil
        if addSpecialTokens && frame == nil {
            // As HF's add_special_tokens=True on such a model: nothing to add, so not an error.
            note("--add-special-tokens: \(tok.name) adds no special tokens of its own, so the ids are unchanged "
                 + "(--separator ID puts an id between documents)", quiet: runOptions.quiet)
        }
        let separatorID = try separator.map { try Encode.tokenID($0, in: tok) }
        if format == .bin && (output == nil || output == "-") && isatty(1) != 0 {
            throw TokenKitError.usage("--format bin writes raw bytes; give -o FILE or redirect stdout")
        }
        // A fresh seed unless one is given, said on stderr so the run can be repeated.
        let seed = self.seed ?? UInt64.random(in: 0...UInt64(Int64.max))
        if isStochastic && self.seed == nil { note("seed \(seed) (--seed \(seed) repeats this run)", quiet: runOptions.quiet) }
        var sampling: EncodeDriver.Sampling?
        if isStochastic {
            sampling = EncodeDriver.Sampling(seed: seed, dropout: dropout ?? 0,
                                             stochasTok: stochastok.map { _ in tok.makeStochasTok() }, stochasTokP: stochastok ?? 0.1)
            sampling?.stochasTokCount = stochastokCount
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
            writer.prefix = frame?.prefix ?? []
            writer.suffix = frame?.suffix ?? []
            writer.separator = separatorID
            var driver = EncodeDriver(tokenizer: tok, policy: try special.policy(for: tok), threads: runOptions.threads, lines: lines)
            driver.sampling = sampling
            if driver.sentencePerLine && epoch == 0 {
                note("\(tok.name) does not keep a line break (its normalizer or vocabulary loses it): each line is encoded as a sentence, as spm_encode does", quiet: runOptions.quiet)
            }
            for (k, path) in inputs.enumerated() {
                var label = epochs > 1 ? "epoch \(epoch + 1)/\(epochs)" : "encoding"
                if inputs.count > 1 { label += " \(k + 1)/\(inputs.count) \(path)" }
                let progress = Progress(total: 0, label: label, quiet: runOptions.quiet)
                var started = false
                do {
                    try driver.run(path, progress: { progress.update($0, of: $1) }) { chunk in
                        if lines {
                            for d in chunk.documents { try writer.document(d, file: path) }
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
            if format == .bin, let path, !out.isDevice {
                // The sidecar and the ids replace their old files together or not at all.
                let meta = try AtomicOutput(path: path + ".json", userOutput: true)
                try meta.write(sidecar(tok, tokens: writer.written, wide: writer.wide, seed: seed, epoch: epoch, inputs: inputs))
                try out.finish(with: [meta])
            } else {
                try out.finish()
            }
        }
    }

    /// The JSON written beside a `bin` file, so training code can memory-map it.
    func sidecar(_ tok: Tokenizer, tokens: Int, wide: Bool, seed: UInt64, epoch: Int, inputs: [String]) -> String {
        var fields = [
            "\"tokenizer\": \(jsonString(tok.name))", "\"vocab_size\": \(tok.vocabSize)",
            "\"dtype\": \"\(wide ? "uint32" : "uint16")\"", "\"byte_order\": \"little\"", "\"tokens\": \(tokens)",
            "\"inputs\": [\(inputs.map(jsonString).joined(separator: ", "))]",
        ]
        if isStochastic {
            fields += ["\"seed\": \(seed)", "\"epoch\": \(epoch)", "\"epochs\": \(epochs)"]
            if let stochastok { fields += ["\"stochastok\": \(stochastok)", "\"stochastok_count\": \"\(stochastokCount.rawValue)\""] }
            if let dropout { fields.append("\"dropout\": \(dropout)") }
            if let alpha { fields.append("\"alpha\": \(alpha)") }
            if let nbest { fields.append("\"nbest\": \(nbest)") }
        }
        if addSpecialTokens { fields.append("\"add_special_tokens\": true") }
        if let separator { fields.append("\"separator\": \(jsonString(separator))") }
        return "{\n  " + fields.joined(separator: ",\n  ") + "\n}\n"
    }

    /// A token named by its text or its id.
    static func tokenID(_ s: String, in tok: Tokenizer) throws -> TokenID {
        if let id = tok.vocab.lookup(Array(s.utf8)) { return id }
        if let n = UInt32(s), Int(n) < tok.vocabSize { return n }
        throw TokenKitError.usage("--separator: \(s) is not a token of \(tok.name) (give its text or its id)")
    }

    /// `--nbest N --list`: the N best segmentations of every line, as spm's nbest_encode.
    func listBest(_ tok: Tokenizer) throws {
        guard let spm = tok.sentencePiece, spm.modelType == .unigram, let count = nbest else {
            throw TokenKitError.usage("--nbest --list needs a SentencePiece Unigram .model; \(tok.name) is a \(tok.modelName) model")
        }
        let out = try Output(path: output)
        let inputs = try inputOptions.expand(files)
        let writer = try IDWriter(format: format, tokenizer: tok, dtype: .u32, out: out, documents: true)
        for path in inputs {
            let text = try readFile(path)
            var lines = text.split(separator: 0x0A, omittingEmptySubsequences: false)
            if text.last == 0x0A { lines.removeLast() }
            for (n, line) in lines.enumerated() {
                let bytes = Array(line)  // a CR stays, as spm_encode's getline keeps it
                if UTF8Scan.firstInvalid(bytes) != nil { throw TokenKitError.badInput("line \(n + 1): invalid UTF-8", file: path) }
                let best = spm.nbest(bytes, count: count)
                switch format {
                case .json, .jsonl:
                    try writer.list(best, file: inputs.count > 1 || format == .jsonl ? path : nil)
                default:
                    for ids in best { try writer.document(ids, file: nil) }
                }
            }
        }
        try writer.close()
        try out.finish()
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
    /// Ids around every document (`--add-special-tokens`) and between documents (`--separator`).
    var prefix: [TokenID] = [], suffix: [TokenID] = []
    var separator: TokenID?
    /// Ids written, special tokens included.
    var written = 0

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
        if let separator, count > 0 { try add([separator]) }
        try add(prefix)
    }

    func add(_ ids: [TokenID]) throws {
        if ids.isEmpty { return }
        written += ids.count
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
        try add(suffix)
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

    /// One line's n-best list: a JSON array of arrays (a JSONL record with `"nbest"`).
    func list(_ best: [[TokenID]], file: String?) throws {
        let arrays = best.map { "[" + $0.map(String.init).joined(separator: ",") + "]" }.joined(separator: ",")
        if format == .jsonl {
            try out.write("{" + (file.map { "\"file\": \(jsonString($0)), " } ?? "") + "\"nbest\": [\(arrays)]}\n")
        } else {
            try out.write((count > 0 ? ",\n" : "\n") + "[\(arrays)]")
        }
        count += 1
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

