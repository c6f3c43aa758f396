import TokenKitCore
import TokenKitModels

/// Encodes files or stdin chunk by chunk on several threads, handing results back in input order.
/// Memory stays bounded by (threads × 2) chunks, whatever the input size.
public struct EncodeDriver {
    public let tokenizer: Tokenizer
    public let policy: SpecialPolicy
    public let threads: Int
    /// Each line is its own document (without its line break).
    public let lines: Bool
    public var chunkSize = 1 << 20
    /// Stochastic encoding; nil for the deterministic ids.
    public var sampling: Sampling?
    var workspaces: [Tokenizer.Workspace] = []
    /// What a chunk cut must not split, found once for every file the driver reads: added
    /// tokens, and in whole-text mode the model's tokens that span a line start.
    let keepWhole: [[UInt8]]

    /// Seeded stochastic encoding. Every chunk draws from its own stream, derived from the seed,
    /// the epoch and the chunk's index, so output depends on none of the thread count, the
    /// batch size or scheduling. StochasTok's attempts (p · n on average, or int(p · n) with
    /// `.floor`) are counted per document in `--lines` mode and per chunk (about 1 MB, cut at
    /// fixed places) for whole files.
    public struct Sampling: Sendable {
        public var seed: UInt64
        public var epoch = 0
        public var dropout = 0.0
        public var stochasTok: StochasTok?
        public var stochasTokP = 0.1
        public var stochasTokCount = StochasTok.AttemptCount.expected
        /// Unigram sampling (SentencePiece Unigram models): temperature and n-best size.
        public var alpha: Double?
        public var nbestSize = -1

        public init(seed: UInt64, epoch: Int = 0, dropout: Double = 0, stochasTok: StochasTok? = nil, stochasTokP: Double = 0.1) {
            self.seed = seed
            self.epoch = epoch
            self.dropout = dropout
            self.stochasTok = stochasTok
            self.stochasTokP = stochasTokP
        }
    }

    /// Whole files of a SentencePiece model that cannot spell a line break are encoded line by
    /// line, each line a sentence (as spm_encode does), the ids concatenated into one document;
    /// as one sentence every line break would become `<unk>`.
    public var sentencePerLine: Bool

    public init(tokenizer: Tokenizer, policy: SpecialPolicy, threads: Int, lines: Bool) {
        self.tokenizer = tokenizer
        self.policy = policy
        self.threads = threads
        self.lines = lines
        sentencePerLine = !lines && tokenizer.sentencePiece != nil && !tokenizer.keepsLineBreaks
        keepWhole = tokenizer.addedTokens.map(\.content) + (lines || !tokenizer.canChunk ? [] : tokenizer.tokensAcrossLineStarts)
    }

    /// One encoded chunk: in whole-file mode one part of the file's ids, in lines mode the ids
    /// of each complete line in it.
    public struct Chunk {
        public var documents: [[TokenID]]
        public var bytes: Int
        public var chars: Int
    }

    /// Encodes `path` ("-" for stdin), calling `emit` with each chunk in order.
    public mutating func run(_ path: String, countChars: Bool = false, progress: (Int, Int?) -> Void = { _, _ in },
                             emit: (Chunk) throws -> Void) throws {
        let byLine = lines || sentencePerLine
        var reader = try ChunkReader(path: path, chunkSize: chunkSize, lines: byLine, whole: !byLine && !tokenizer.canChunk,
                                     keepWhole: keepWhole)
        defer { reader.close() }
        let size = reader.size
        let batchSize = max(1, threads * 2)
        let tok = tokenizer, policy = policy, lines = lines, sampling = sampling
        var done = false
        var chunkBase = 0
        while !done {
            var batch: [(bytes: [UInt8], offset: Int)] = []
            while batch.count < batchSize, let c = try reader.next() { batch.append(c) }
            if batch.count < batchSize { done = true }
            if batch.isEmpty { break }
            let results = try parallelMap(count: batch.count, threads: threads, states: &workspaces,
                                          makeState: { Tokenizer.Workspace() }) { i, ws -> Chunk in
                let (bytes, offset) = batch[i]
                if let sampling {
                    ws.dropout = sampling.dropout
                    ws.alpha = sampling.alpha
                    ws.nbestSize = sampling.nbestSize
                    ws.rng = SplitMix64(seed: sampling.seed).derived(UInt64(sampling.epoch) << 40 | UInt64(chunkBase + i))
                }
                func finish(_ ids: inout [TokenID]) {
                    guard let sampling, let table = sampling.stochasTok else { return }
                    var rng = ws.rng
                    table.expand(&ids, p: sampling.stochasTokP, count: sampling.stochasTokCount, using: &rng)
                    ws.rng = rng
                }
                return try bytes.withUnsafeBufferPointer { p in
                    let chars = countChars ? UTF8Scan.scalarCount(p) : 0
                    if !byLine {
                        var ids: [TokenID] = []
                        ids.reserveCapacity(p.count / 3)
                        try tok.encode(p, policy: policy, at: .init(offset: offset, atStart: offset == 0), workspace: ws, into: &ids)
                        finish(&ids)
                        return Chunk(documents: [ids], bytes: p.count, chars: chars)
                    }
                    var docs: [[TokenID]] = []
                    var s = 0
                    while s < p.count {
                        var e = s
                        while e < p.count, p[e] != 0x0A { e += 1 }
                        var end = e
                        // spm_encode reads lines with getline and keeps a CR; other lines lose it.
                        if end > s, p[end - 1] == 0x0D, tok.sentencePiece == nil { end -= 1 }
                        var ids: [TokenID] = []
                        try tok.encode(UnsafeBufferPointer(rebasing: p[s..<end]), policy: policy,
                                       at: .init(offset: offset + s, atStart: true), workspace: ws, into: &ids)
                        if lines { finish(&ids) }
                        docs.append(ids)
                        s = e + 1
                    }
                    if !lines {
                        // One sentence per line, one document per file.
                        var ids = Array(docs.joined())
                        finish(&ids)
                        docs = [ids]
                    }
                    return Chunk(documents: docs, bytes: p.count, chars: chars)
                }
            }
            chunkBase += batch.count
            for r in results { try emit(r) }
            progress(reader.bytesRead, size)
        }
    }
}
