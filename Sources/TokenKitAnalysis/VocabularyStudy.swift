import Foundation
import TokenKit
import TokenKitCore
import TokenKitTraining
import TokenKitFormats
import TokenKitModels
import TokenKitSentencePiece

/// How a language's corpus token count falls with vocabulary size, and the "optimal" size that
/// gives it a target count (Arnett et al. 2025): per language, a byte-level BPE tokenizer is
/// trained on that language's training file at each size, the parallel corpus is counted with
/// each (lines encoded one by one, as `PremiumAnalysis` does), `tokens = a·V^b` is fitted by least
/// squares on (log V, log tokens), and V = (target / a)^(1/b).
///
/// BPE merges are learned greedily, so the tokenizer of size s is the first s − 256 merges of the
/// largest one: each language is trained once, at the largest size.
public struct VocabularyStudy {
    public enum Algorithm: String, Sendable, CaseIterable {
        /// Byte-level BPE (`BPETrainer`), trained once at the largest size.
        case bpe
        /// SentencePiece Unigram (`UnigramTrainer`, spm's defaults), trained at each size.
        case unigram
    }

    public struct Options: Sendable {
        public var algorithm = Algorithm.bpe
        /// Vocabulary sizes, each at least 257.
        public var sizes: [Int] = [8192, 16384, 32768, 65536]
        public var pivot = "eng"
        /// Target corpus token count; default: the pivot's count at the middle size.
        public var targetTokens: Int?
        public var threads = 1
        /// Pre-tokenizer and normalizer of the trained tokenizers (default r50k, none).
        public var pipeline: TrainingPipeline?
        public var minFrequency: Int64 = 2
        public init() {}
    }

    public var options: Options
    public init(options: Options = Options()) { self.options = options }

    /// "8k,16k,32k" (k = 1024, m = 1024²) or plain numbers.
    public static func parseSizes(_ s: String) throws -> [Int] {
        var out: [Int] = []
        for part in s.split(separator: ",") {
            let p = part.trimmingCharacters(in: .whitespaces).lowercased()
            var mult = 1, digits = p
            if p.hasSuffix("k") { mult = 1024; digits = String(p.dropLast()) } else if p.hasSuffix("m") { mult = 1 << 20; digits = String(p.dropLast()) }
            guard let n = Int(digits), n > 0, n * mult > 256 else {
                throw TokenKitError.usage("\(part.debugDescription) is not a vocabulary size above 256 (like 8k or 32000)", setting: .trainSizes)
            }
            out.append(n * mult)
        }
        if out.isEmpty { throw TokenKitError.usage("no vocabulary sizes given", setting: .trainSizes) }
        return Array(Set(out)).sorted()
    }

    public func run(corpus: ParallelCorpus, trainingDir: String,
                    progress: (Int, Int) -> Void = { _, _ in }) throws -> VocabularyReport {
        let sizes = Array(Set(options.sizes)).sorted()
        guard let largest = sizes.last else { throw TokenKitError.usage("give at least one vocabulary size") }
        let pipeline = try options.pipeline ?? TrainingPipeline(preTokenizer: "r50k", normalizer: "none")
        var problems = corpus.problems
        let trainFiles = Dictionary(try ParallelCorpus.languageFiles(in: trainingDir).map { ($0.code, $0.path) },
                                    uniquingKeysWith: { a, _ in a })
        let langs = corpus.languages
        var rows = langs.map { VocabularyRow(language: $0.code, trainFile: trainFiles[$0.code]) }
        for (code, message) in corpus.missing {
            var r = VocabularyRow(language: code, trainFile: trainFiles[code])
            r.error = message
            rows.append(r)
        }
        for i in langs.indices where rows[i].trainFile == nil {
            rows[i].error = "no training file \(langs[i].code).txt in \(trainingDir)"
            problems.append(Problem(language: langs[i].code, file: trainingDir, rows[i].error!))
        }

        // Train and count, one language per task (each training single-threaded).
        let todo = langs.indices.filter { rows[$0].trainFile != nil }
        var states: [Int] = []
        var done = 0
        let lock = NSLock()
        let minFrequency = options.minFrequency, algorithm = options.algorithm
        let results = try parallelMap(count: todo.count, threads: options.threads, states: &states, makeState: { 0 }) {
            k, _ -> Result<[VocabularyRow.Point], TokenKitError> in
            let i = todo[k]
            defer {
                lock.lock()
                done += 1
                progress(done, todo.count)
                lock.unlock()
            }
            do {
                if algorithm == .unigram {
                    return .success(try Self.trainUnigramAndCount(langs[i], file: rows[i].trainFile!, sizes: sizes))
                }
                return .success(try Self.trainAndCount(langs[i], file: rows[i].trainFile!, sizes: sizes, largest: largest,
                                                       pipeline: pipeline, minFrequency: minFrequency))
            } catch let e as TokenKitError {
                return .failure(e.inFile(rows[i].trainFile!))
            } catch {
                return .failure(TokenKitError.badInput("\(error)", file: rows[i].trainFile!))
            }
        }
        for (k, i) in todo.enumerated() {
            switch results[k] {
            case .success(let points):
                rows[i].points = points
                if points.last.map({ $0.actualVocabSize < $0.vocabSize }) == true, algorithm == .bpe {
                    problems.append(Problem(language: langs[i].code, file: rows[i].trainFile,
                                            "training stopped at \(points.last!.actualVocabSize) tokens (no pair occurs \(minFrequency)+ times); larger sizes repeat it"))
                }
                rows[i].fit = PowerLawFit(points.map { (Double($0.actualVocabSize), Double($0.tokens)) })
                if rows[i].fit == nil {
                    problems.append(Problem(language: langs[i].code, file: rows[i].trainFile,
                                            "fewer than two distinct vocabulary sizes (or a zero count); no power law fitted"))
                }
            case .failure(let e):
                rows[i].error = e.message
                problems.append(Problem(language: langs[i].code, file: e.file, e.message))
            }
        }

        // Target and optimal sizes.
        var target = options.targetTokens.map(Double.init)
        var targetSource = target.map { _ in "given" } ?? ""
        if target == nil {
            let mid = sizes[sizes.count / 2]
            if let p = rows.first(where: { $0.language == options.pivot }), let pt = p.points.first(where: { $0.vocabSize == mid }) {
                target = Double(pt.tokens)
                targetSource = "\(options.pivot) at \(mid)"
            } else {
                problems.append(Problem(language: options.pivot, file: corpus.path,
                                        "the pivot \(options.pivot) has no count at \(mid); give a target token count for optimal sizes"))
            }
        }
        if let target {
            for i in rows.indices {
                guard let fit = rows[i].fit else { continue }
                rows[i].optimal = fit.solve(target)
                if rows[i].optimal == nil {
                    rows[i].note = "the count does not fall with vocabulary size (b = \(fmt(fit.b, 3)))"
                } else if let v = rows[i].optimal, let lo = rows[i].points.first?.actualVocabSize, let hi = rows[i].points.last?.actualVocabSize,
                          v < Double(lo) * (1 - 1e-9) || v > Double(hi) * (1 + 1e-9) {
                    rows[i].extrapolated = true
                }
            }
        }
        return VocabularyReport(corpus: corpus.path, trainingDir: trainingDir, algorithm: options.algorithm, sizes: sizes, targetTokens: target, targetSource: targetSource,
                                preTokenizer: pipeline.preTokenizerName, rows: rows, problems: problems)
    }

    /// Unigram models are not nested like BPE merges: one training per size. Sentences are the
    /// training file's non-empty lines; the corpus is counted with `sp.encode` (no BOS/EOS).
    static func trainUnigramAndCount(_ lang: CorpusLanguage, file: String, sizes: [Int]) throws -> [VocabularyRow.Point] {
        let sentences = CorpusLanguage.splitLines(try readFile(file)).filter { !$0.isEmpty }
        if sentences.isEmpty { throw TokenKitError.badInput("the training file is empty") }
        var points: [VocabularyRow.Point] = []
        for size in sizes {
            var config = UnigramTrainer.Configuration()
            config.vocabSize = size
            config.hardVocabLimit = false
            config.threads = 1
            let model = try UnigramTrainer(config).trainModel(sentences: sentences)
            var total = 0
            lang.text.withUnsafeBufferPointer { p in
                for r in lang.lines { total += model.encode(Array(p[r])).count }
            }
            points.append(.init(vocabSize: size, actualVocabSize: model.count, tokens: total))
        }
        return points
    }

    static func trainAndCount(_ lang: CorpusLanguage, file: String, sizes: [Int], largest: Int, pipeline: TrainingPipeline,
                              minFrequency: Int64) throws -> [VocabularyRow.Point] {
        let reader = CorpusReader(normalizer: pipeline.normalizer, preTokenizer: pipeline.preTokenizer, threads: 1)
        let words = try reader.countWords([file])
        if words.count == 0 { throw TokenKitError.badInput("the training file is empty") }
        var config = BPETrainer.Configuration()
        config.vocabSize = largest
        config.minFrequency = minFrequency
        let full = try BPETrainer(config).train(words: words)
        var points: [VocabularyRow.Point] = []
        let ws = Tokenizer.Workspace()
        var ids: [TokenID] = []
        for size in sizes {
            let k = min(size - 256, full.merges.count)
            let tok = try prefixTokenizer(full, merges: k, pipeline: pipeline, name: "\(lang.code)-\(size)")
            var total = 0
            try lang.text.withUnsafeBufferPointer { p in
                for (n, r) in lang.lines.enumerated() {
                    ids.removeAll(keepingCapacity: true)
                    do {
                        try tok.encode(UnsafeBufferPointer(rebasing: p[r]), policy: .ordinary, at: Tokenizer.Position(), workspace: ws, into: &ids)
                    } catch let e as TokenKitError {
                        throw TokenKitError.badInput("\(lang.source): line \(n + 1): \(e.message)")
                    }
                    total += ids.count
                }
            }
            points.append(.init(vocabSize: size, actualVocabSize: 256 + k, tokens: total))
        }
        return points
    }
}

/// The tokenizer made of the first `k` merges of a training result (bytes are ids 0–255, merge i
/// is id 256 + i, as `TrainingPipeline.tokenizer` builds them).
func prefixTokenizer(_ result: BPETrainer.Result, merges k: Int, pipeline: TrainingPipeline, name: String) throws -> Tokenizer {
    var entries: [([UInt8], TokenID)] = []
    for id in 0..<(256 + k) { entries.append((result.tokens[id], TokenID(id))) }
    let merges = result.merges.prefix(k).enumerated().map { ($0.element.0, $0.element.1, TokenID(256 + $0.offset)) }
    let model = BPEModel(vocab: try TokenTable(entries), merges: Array(merges), symbols: .bytes, wholePieceFirst: false)
    return try Tokenizer(name: name, format: .tokenizerJSON, model: .bpe(model), normalizer: pipeline.normalizer, preTokenizer: pipeline.preTokenizer,
                         decoder: .byteLevel, addedTokens: [], patternDescription: pipeline.preTokenizerName, defaultPolicy: .huggingFace)
}

/// tokens = a · V^b, fitted by least squares on (ln V, ln tokens).
public struct PowerLawFit: Sendable, Equatable {
    public var a: Double
    public var b: Double
    /// R² of the fit in log-log space.
    public var r2: Double

    /// Nil with fewer than two distinct x values or a non-positive value.
    public init?(_ points: [(x: Double, y: Double)]) {
        if points.contains(where: { $0.x <= 0 || $0.y <= 0 }) { return nil }
        var seen = Set<Double>()
        let pts = points.filter { seen.insert($0.x).inserted }
        guard pts.count >= 2 else { return nil }
        let xs = pts.map { log($0.x) }, ys = pts.map { log($0.y) }
        let n = Double(pts.count)
        let mx = xs.reduce(0, +) / n, my = ys.reduce(0, +) / n
        var sxx = 0.0, sxy = 0.0, syy = 0.0
        for (x, y) in zip(xs, ys) {
            sxx += (x - mx) * (x - mx)
            sxy += (x - mx) * (y - my)
            syy += (y - my) * (y - my)
        }
        guard sxx > 0 else { return nil }
        b = sxy / sxx
        a = exp(my - b * mx)
        r2 = syy > 0 ? (sxy * sxy) / (sxx * syy) : 1
    }

    public func predict(_ v: Double) -> Double { a * pow(v, b) }

    /// The V with predict(V) = target, if the count falls with V.
    public func solve(_ target: Double) -> Double? {
        guard b < 0, target > 0 else { return nil }
        return exp((log(target) - log(a)) / b)
    }
}

public struct VocabularyRow: Sendable {
    public struct Point: Sendable, Equatable {
        /// The size asked for.
        public var vocabSize: Int
        /// 256 + merges learned (smaller when training ran out of pairs).
        public var actualVocabSize: Int
        public var tokens: Int
    }

    public var language: String
    public var trainFile: String?
    public var points: [Point] = []
    public var fit: PowerLawFit?
    /// Vocabulary size that reaches the target count.
    public var optimal: Double?
    /// The optimal size lies outside the trained sizes.
    public var extrapolated = false
    public var note: String?
    public var error: String?

    init(language: String, trainFile: String?) {
        self.language = language
        self.trainFile = trainFile
    }
}

public struct VocabularyReport: Sendable {
    public var corpus: String
    public var trainingDir: String
    public var algorithm: VocabularyStudy.Algorithm
    public var sizes: [Int]
    public var targetTokens: Double?
    /// "given" or "eng at 32768".
    public var targetSource: String
    public var preTokenizer: String
    public var rows: [VocabularyRow]
    public var problems: [Problem]

    public func render(_ format: PremiumFormat) -> String {
        var header = ["language"] + sizes.map { "tokens@\($0)" } + ["a", "b", "r2", "optimal_vocab_size", "extrapolated", "note"]
        var table: [[String]] = []
        for r in rows {
            var cells = [r.language]
            for s in sizes { cells.append(r.points.first { $0.vocabSize == s }.map { String($0.tokens) } ?? "") }
            cells += [r.fit.map { fmt($0.a, 1) } ?? "", r.fit.map { fmt($0.b, 4) } ?? "", r.fit.map { fmt($0.r2, 4) } ?? "",
                      r.optimal.map { String(Int($0.rounded())) } ?? "", r.optimal == nil ? "" : (r.extrapolated ? "yes" : "no"),
                      r.error.map { "error: \($0)" } ?? r.note ?? ""]
            table.append(cells)
        }
        let target = targetTokens.map { "\(Int($0)) tokens (\(targetSource))" } ?? "none"
        let model = algorithm == .bpe ? "BPE (pre-tokenizer \(preTokenizer))" : "SentencePiece Unigram"
        let about = "\(model) trained per language on \(trainingDir); tokens = a·V^b fitted in log-log; target \(target)"
        switch format {
        case .text:
            header[header.count - 1] = "note"
            let numeric = header.map { !["language", "extrapolated", "note"].contains($0) }
            return "Corpus token count by vocabulary size on \(corpus)\n(\(about))\n\n" + align([header] + table.map { $0.map { $0.isEmpty ? "-" : $0 } }, numeric: numeric)
        case .csv:
            return ([header] + table).map { $0.map(csvField).joined(separator: ",") }.joined(separator: "\n") + "\n"
        case .markdown:
            var out = "## Corpus token count by vocabulary size\n\n\(about).\n\n| " + header.map(mdEscape).joined(separator: " | ") + " |\n"
            out += "|" + header.map { _ in "---" }.joined(separator: "|") + "|\n"
            for row in table { out += "| " + row.map(mdEscape).joined(separator: " | ") + " |\n" }
            return out
        case .json:
            var out = "{\n  \"corpus\": \(jsonString(corpus)),\n  \"train\": \(jsonString(trainingDir)),\n"
            out += "  \"algorithm\": \(jsonString(algorithm.rawValue)),\n  \"pre_tokenizer\": \(algorithm == .bpe ? jsonString(preTokenizer) : "null"),\n"
            out += "  \"sizes\": [\(sizes.map(String.init).joined(separator: ", "))],\n"
            out += "  \"fit\": \"tokens = a * V^b, least squares on (ln V, ln tokens)\",\n"
            out += "  \"target_tokens\": \(targetTokens.map { jsonNumber($0) } ?? "null"),\n  \"target\": \(jsonString(targetSource)),\n"
            out += "  \"rows\": [\n"
            out += rows.map { r in
                let pts = r.points.map { "{\"vocab_size\": \($0.vocabSize), \"actual_vocab_size\": \($0.actualVocabSize), \"tokens\": \($0.tokens)}" }
                var f = ["\"language\": \(jsonString(r.language))", "\"train_file\": \(r.trainFile.map(jsonString) ?? "null")",
                         "\"counts\": [\(pts.joined(separator: ", "))]"]
                f.append("\"a\": \(r.fit.map { jsonNumber($0.a) } ?? "null")")
                f.append("\"b\": \(r.fit.map { jsonNumber($0.b) } ?? "null")")
                f.append("\"r2\": \(r.fit.map { jsonNumber($0.r2) } ?? "null")")
                f.append("\"optimal_vocab_size\": \(r.optimal.map { String(Int($0.rounded())) } ?? "null")")
                f.append("\"extrapolated\": \(r.extrapolated)")
                f.append("\"note\": \(r.note.map(jsonString) ?? "null")")
                f.append("\"error\": \(r.error.map(jsonString) ?? "null")")
                return "    {" + f.joined(separator: ", ") + "}"
            }.joined(separator: ",\n")
            out += "\n  ],\n  \"problems\": [\n"
            out += problems.map { "    {\"language\": \($0.language.map(jsonString) ?? "null"), \"file\": \($0.file.map(jsonString) ?? "null"), \"message\": \(jsonString($0.message))}" }
                .joined(separator: ",\n")
            out += (problems.isEmpty ? "" : "\n") + "  ]\n}\n"
            return out
        }
    }
}
