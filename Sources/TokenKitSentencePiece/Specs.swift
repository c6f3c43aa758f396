import TokenKitCore
import TokenKitModels

/// SentencePiece's `TrainerSpec` (field 2 of the model): how the model was trained, and a few
/// settings encoding depends on (model type, byte fallback, special pieces, whitespace as
/// suffix). Every field of the file is kept, known or not, so writing gives the same bytes.
public struct TrainerSpec: Sendable, Equatable {
    var raw = RawMessage()

    public init() {}

    static let schema: [Int: (String, RawMessage.Kind)] = [
        1: ("input", .string), 7: ("input_format", .string), 2: ("model_prefix", .string),
        3: ("model_type", .int32), 4: ("vocab_size", .int32), 5: ("accept_language", .string),
        6: ("self_test_sample_size", .int32), 50: ("enable_differential_privacy", .bool),
        51: ("differential_privacy_noise_level", .float), 52: ("differential_privacy_clipping_threshold", .uint64),
        10: ("character_coverage", .float), 11: ("input_sentence_size", .uint64),
        19: ("shuffle_input_sentence", .bool), 12: ("mining_sentence_size", .int32),
        13: ("training_sentence_size", .int32), 14: ("seed_sentencepiece_size", .int32),
        15: ("shrinking_factor", .float), 18: ("max_sentence_length", .int32), 16: ("num_threads", .int32),
        17: ("num_sub_iterations", .int32), 20: ("max_sentencepiece_length", .int32),
        21: ("split_by_unicode_script", .bool), 23: ("split_by_number", .bool),
        22: ("split_by_whitespace", .bool), 24: ("treat_whitespace_as_suffix", .bool),
        26: ("allow_whitespace_only_pieces", .bool), 25: ("split_digits", .bool),
        53: ("pretokenization_delimiter", .string), 30: ("control_symbols", .string),
        31: ("user_defined_symbols", .string), 36: ("required_chars", .string), 35: ("byte_fallback", .bool),
        32: ("vocabulary_output_piece_score", .bool), 33: ("hard_vocab_limit", .bool), 34: ("use_all_vocab", .bool),
        40: ("unk_id", .int32), 41: ("bos_id", .int32), 42: ("eos_id", .int32), 43: ("pad_id", .int32),
        45: ("unk_piece", .string), 46: ("bos_piece", .string), 47: ("eos_piece", .string),
        48: ("pad_piece", .string), 44: ("unk_surface", .string), 49: ("train_extremely_large_corpus", .bool),
        54: ("seed_sentencepieces_file", .string),
    ]

    // Typed access. Getters give protobuf's default when the field is absent.
    func int32(_ n: Int, _ d: Int32) -> Int32 { raw.last(n).map { Int32(truncatingIfNeeded: $0.scalar) } ?? d }
    func bool(_ n: Int, _ d: Bool) -> Bool { raw.last(n).map { $0.scalar != 0 } ?? d }
    func float(_ n: Int, _ d: Float) -> Float { raw.last(n).map { Float(bitPattern: UInt32(truncatingIfNeeded: $0.scalar)) } ?? d }
    func string(_ n: Int, _ d: String) -> [UInt8] { raw.last(n)?.bytes ?? Array(d.utf8) }
    mutating func setInt32(_ n: Int, _ v: Int32) { raw.set(ProtoField(number: n, wire: .varint, scalar: UInt64(bitPattern: Int64(v)))) }
    mutating func setBool(_ n: Int, _ v: Bool) { raw.set(ProtoField(number: n, wire: .varint, scalar: v ? 1 : 0)) }
    mutating func setFloat(_ n: Int, _ v: Float) { raw.set(ProtoField(number: n, wire: .fixed32, scalar: UInt64(v.bitPattern))) }
    mutating func setString(_ n: Int, _ v: [UInt8]) { raw.set(ProtoField(number: n, wire: .lengthDelimited, bytes: v)) }
    func strings(_ n: Int) -> [[UInt8]] { raw.all(n).map(\.bytes) }
    mutating func setStrings(_ n: Int, _ v: [[UInt8]]) {
        raw.setRepeated(n, v.map { ProtoField(number: n, wire: .lengthDelimited, bytes: $0) })
    }

    /// The raw model_type value (1 unigram, 2 BPE, 3 word, 4 char).
    public var modelTypeRaw: Int32 { get { int32(3, 1) } set { setInt32(3, newValue) } }
    public var vocabSize: Int32 { get { int32(4, 8000) } set { setInt32(4, newValue) } }
    public var characterCoverage: Float { get { float(10, 0.9995) } set { setFloat(10, newValue) } }
    public var inputSentenceSize: UInt64 {
        get { raw.last(11)?.scalar ?? 0 }
        set { raw.set(ProtoField(number: 11, wire: .varint, scalar: newValue)) }
    }
    public var seedSentencepieceSize: Int32 { get { int32(14, 1_000_000) } set { setInt32(14, newValue) } }
    public var shrinkingFactor: Float { get { float(15, 0.75) } set { setFloat(15, newValue) } }
    public var maxSentenceLength: Int32 { get { int32(18, 4192) } set { setInt32(18, newValue) } }
    public var numThreads: Int32 { get { int32(16, 16) } set { setInt32(16, newValue) } }
    public var numSubIterations: Int32 { get { int32(17, 2) } set { setInt32(17, newValue) } }
    public var maxSentencepieceLength: Int32 { get { int32(20, 16) } set { setInt32(20, newValue) } }
    public var splitByUnicodeScript: Bool { get { bool(21, true) } set { setBool(21, newValue) } }
    public var splitByNumber: Bool { get { bool(23, true) } set { setBool(23, newValue) } }
    public var splitByWhitespace: Bool { get { bool(22, true) } set { setBool(22, newValue) } }
    public var treatWhitespaceAsSuffix: Bool { get { bool(24, false) } set { setBool(24, newValue) } }
    public var allowWhitespaceOnlyPieces: Bool { get { bool(26, false) } set { setBool(26, newValue) } }
    public var splitDigits: Bool { get { bool(25, false) } set { setBool(25, newValue) } }
    public var controlSymbols: [[UInt8]] { get { strings(30) } set { setStrings(30, newValue) } }
    public var userDefinedSymbols: [[UInt8]] { get { strings(31) } set { setStrings(31, newValue) } }
    public var byteFallback: Bool { get { bool(35, false) } set { setBool(35, newValue) } }
    public var vocabularyOutputPieceScore: Bool { get { bool(32, true) } set { setBool(32, newValue) } }
    public var hardVocabLimit: Bool { get { bool(33, true) } set { setBool(33, newValue) } }
    public var unkID: Int32 { get { int32(40, 0) } set { setInt32(40, newValue) } }
    public var bosID: Int32 { get { int32(41, 1) } set { setInt32(41, newValue) } }
    public var eosID: Int32 { get { int32(42, 2) } set { setInt32(42, newValue) } }
    public var padID: Int32 { get { int32(43, -1) } set { setInt32(43, newValue) } }
    public var unkPiece: [UInt8] { get { string(45, "<unk>") } set { setString(45, newValue) } }
    public var bosPiece: [UInt8] { get { string(46, "<s>") } set { setString(46, newValue) } }
    public var eosPiece: [UInt8] { get { string(47, "</s>") } set { setString(47, newValue) } }
    public var padPiece: [UInt8] { get { string(48, "<pad>") } set { setString(48, newValue) } }
    /// What decoding writes for the unknown piece (default " ⁇ ").
    public var unkSurface: [UInt8] { get { string(44, " \u{2047} ") } set { setString(44, newValue) } }
    public var modelPrefix: [UInt8] { get { string(2, "") } set { setString(2, newValue) } }
    public var input: [[UInt8]] { get { strings(1) } set { setStrings(1, newValue) } }
}

/// SentencePiece's `NormalizerSpec` (field 3 of the model, and field 5, the denormalizer).
public struct NormalizerSpec: Sendable, Equatable {
    var raw = RawMessage()

    public init() {}

    static let schema: [Int: (String, RawMessage.Kind)] = [
        1: ("name", .string), 2: ("precompiled_charsmap", .string), 3: ("add_dummy_prefix", .bool),
        4: ("remove_extra_whitespaces", .bool), 5: ("escape_whitespaces", .bool),
        6: ("normalization_rule_tsv", .string),
    ]

    /// "nmt_nfkc", "nfkc", "identity", … (informational: the charsmap is what is applied).
    public var name: [UInt8] {
        get { raw.last(1)?.bytes ?? [] }
        set { raw.set(ProtoField(number: 1, wire: .lengthDelimited, bytes: newValue)) }
    }
    /// The compiled normalization rules (see `PrecompiledCharsMap`); empty for identity.
    public var precompiledCharsmap: [UInt8] {
        get { raw.last(2)?.bytes ?? [] }
        set { raw.set(ProtoField(number: 2, wire: .lengthDelimited, bytes: newValue)) }
    }
    public var addDummyPrefix: Bool {
        get { raw.last(3).map { $0.scalar != 0 } ?? true }
        set { raw.set(ProtoField(number: 3, wire: .varint, scalar: newValue ? 1 : 0)) }
    }
    public var removeExtraWhitespaces: Bool {
        get { raw.last(4).map { $0.scalar != 0 } ?? true }
        set { raw.set(ProtoField(number: 4, wire: .varint, scalar: newValue ? 1 : 0)) }
    }
    public var escapeWhitespaces: Bool {
        get { raw.last(5).map { $0.scalar != 0 } ?? true }
        set { raw.set(ProtoField(number: 5, wire: .varint, scalar: newValue ? 1 : 0)) }
    }
}
