import TokenKitCore
import TokenKitModels

/// A SentencePiece model (`.model` file, the `ModelProto` protobuf): pieces with scores and
/// types, the trainer and normalizer specs, and everything needed to encode and decode exactly
/// as the `sentencepiece` library does.
///
/// Reading keeps every field of the file, including ones this code does not know, so
/// `serialized()` of an unmodified model gives back the file's bytes.
public struct SentencePieceModel: Sendable {
    public typealias PieceType = UnigramPieceType

    public enum ModelType: Int32, Sendable {
        case unigram = 1, bpe = 2, word = 3, char = 4
    }

    public struct Piece: Sendable, Equatable {
        public var bytes: [UInt8]
        public var score: Float
        public var type: PieceType
        /// Fields of the piece message other than piece/score/type, and whether score and type
        /// were written (protobuf presence), so re-serializing gives the same bytes.
        var extra: [UInt8] = []
        var hasScore = true
        var hasType: Bool

        public init(bytes: [UInt8], score: Float, type: PieceType = .normal) {
            self.bytes = bytes
            self.score = score
            self.type = type
            self.hasType = type != .normal
        }
    }

    public var pieces: [Piece] { didSet { compile() } }
    public var trainerSpec: TrainerSpec { didSet { compile() } }
    public var normalizerSpec: NormalizerSpec { didSet { compile() } }
    /// `denormalizer_spec` (field 5), kept for writing; nil when absent.
    public var denormalizerSpec: NormalizerSpec?
    /// `self_test_data` (field 4) and unknown top-level fields, kept raw for writing.
    var selfTestData: [UInt8]?
    var extraFields: [ProtoField] = []

    /// Derived lookup structures, rebuilt when pieces or specs change.
    package var compiled: Compiled

    public var modelType: ModelType {
        get { ModelType(rawValue: trainerSpec.modelTypeRaw) ?? .unigram }
        set { trainerSpec.modelTypeRaw = newValue.rawValue }
    }

    public var byteFallback: Bool {
        get { trainerSpec.byteFallback }
        set { trainerSpec.byteFallback = newValue }
    }

    /// The piece of type UNKNOWN (spm requires exactly one).
    public var unkID: TokenID? { compiled.unkID.map { TokenID($0) } }
    /// The id of `trainer_spec.bos_piece` if it is a control piece (as `sp.bos_id()`).
    public var bosID: TokenID? { controlID(trainerSpec.bosPiece) }
    public var eosID: TokenID? { controlID(trainerSpec.eosPiece) }
    public var padID: TokenID? { controlID(trainerSpec.padPiece) }

    func controlID(_ piece: [UInt8]) -> TokenID? {
        let id = pieceToID(piece)
        guard id >= 0, id < pieces.count, pieces[id].type == .control else { return nil }
        return TokenID(id)
    }

    public init(pieces: [Piece], trainerSpec: TrainerSpec = TrainerSpec(), normalizerSpec: NormalizerSpec = NormalizerSpec()) {
        self.pieces = pieces
        self.trainerSpec = trainerSpec
        self.normalizerSpec = normalizerSpec
        self.compiled = Compiled(pieces: pieces, trainerSpec: trainerSpec, normalizerSpec: normalizerSpec)
    }

    mutating func compile() {
        compiled = Compiled(pieces: pieces, trainerSpec: trainerSpec, normalizerSpec: normalizerSpec)
    }

    /// Vocabulary size.
    public var count: Int { pieces.count }

    /// The id of a piece as spm's `PieceToId`: control/unknown/byte pieces first, then the
    /// others, else the unknown id (-1 when there is none).
    public func pieceToID(_ piece: [UInt8]) -> Int {
        piece.withUnsafeBufferPointer { compiled.pieceToID($0) }
    }

    // MARK: Reading

    /// Parses a `.model` file. Checks what spm checks when loading (no empty or duplicate
    /// pieces, exactly one UNKNOWN piece, byte pieces only with byte_fallback and named
    /// `<0x00>`…`<0xFF>`, a well-formed precompiled charsmap) and reports the field and byte
    /// offset of malformed protobuf data.
    public static func parse(_ data: [UInt8]) throws -> SentencePieceModel {
        var r = ProtoReader(data)
        var pieces: [Piece] = []
        var trainer: TrainerSpec?
        var normalizer: NormalizerSpec?
        var denormalizer: NormalizerSpec?
        var selfTest: [UInt8]?
        var extra: [ProtoField] = []
        while let (number, wire, offset) = try r.tag() {
            switch number {
            case 1:
                let name = "pieces[\(pieces.count)]"
                try r.expect(.lengthDelimited, wire, field: name, at: offset)
                let (range, overrun) = try r.nestedMessage(name)
                pieces.append(try parsePiece(data, range, name))
                if let e = overrun { throw e }
            case 2:
                try r.expect(.lengthDelimited, wire, field: "trainer_spec", at: offset)
                let (range, overrun) = try r.nestedMessage("trainer_spec")
                var spec = TrainerSpec()
                spec.raw = try RawMessage.parse(data, range: range, path: "trainer_spec", schema: TrainerSpec.schema)
                if let e = overrun { throw e }
                trainer = spec
            case 3, 5:
                let name = number == 3 ? "normalizer_spec" : "denormalizer_spec"
                try r.expect(.lengthDelimited, wire, field: name, at: offset)
                let (range, overrun) = try r.nestedMessage(name)
                var spec = NormalizerSpec()
                spec.raw = try RawMessage.parse(data, range: range, path: name, schema: NormalizerSpec.schema)
                if let e = overrun { throw e }
                if number == 3 { normalizer = spec } else { denormalizer = spec }
            case 4:
                try r.expect(.lengthDelimited, wire, field: "self_test_data", at: offset)
                selfTest = Array(data[try r.lengthDelimited("self_test_data")])
            default:
                extra.append(try r.raw(number: number, wire: wire, field: "#\(number)"))
            }
        }
        var model = SentencePieceModel(pieces: pieces, trainerSpec: trainer ?? TrainerSpec(),
                                       normalizerSpec: normalizer ?? NormalizerSpec())
        model.denormalizerSpec = denormalizer
        model.selfTestData = selfTest
        model.extraFields = extra
        try model.validate()
        return model
    }

    static func parsePiece(_ data: [UInt8], _ range: Range<Int>, _ path: String) throws -> Piece {
        var r = ProtoReader(data, range: range, path: path)
        var piece = Piece(bytes: [], score: 0, type: .normal)
        piece.hasScore = false
        var extra = ProtoWriter()
        while let (number, wire, offset) = try r.tag() {
            switch number {
            case 1:
                try r.expect(.lengthDelimited, wire, field: "\(path).piece", at: offset)
                piece.bytes = Array(data[try r.lengthDelimited("\(path).piece")])
            case 2:
                try r.expect(.fixed32, wire, field: "\(path).score", at: offset)
                piece.score = Float(bitPattern: try r.fixed32("\(path).score"))
                piece.hasScore = true
            case 3:
                try r.expect(.varint, wire, field: "\(path).type", at: offset)
                let v = try r.varint("\(path).type")
                guard let t = PieceType(rawValue: Int32(truncatingIfNeeded: v)), v <= 6 else {
                    throw r.fail("\(path).type", "unknown piece type \(Int64(bitPattern: v))", at: offset)
                }
                piece.type = t
                piece.hasType = true
            default:
                extra.field(try r.raw(number: number, wire: wire, field: "\(path).#\(number)"))
            }
        }
        piece.extra = extra.out
        return piece
    }

    /// spm's load-time checks (model_interface.cc, normalizer.cc).
    func validate() throws {
        var normal: [[UInt8]: Int] = [:]
        var reserved: [[UInt8]: Int] = [:]
        var unk: Int?
        for (i, p) in pieces.enumerated() {
            let name = "pieces[\(i)]"
            if p.bytes.isEmpty { throw TokenKitError.badInput("field \(name).piece: empty piece") }
            let isNormal = p.type == .normal || p.type == .userDefined || p.type == .unused
            if let other = isNormal ? normal[p.bytes] : reserved[p.bytes] {
                throw TokenKitError.badInput("field \(name).piece: \(show(p.bytes)) is already pieces[\(other)]")
            }
            if isNormal { normal[p.bytes] = i } else { reserved[p.bytes] = i }
            if p.type == .unknown {
                if let u = unk { throw TokenKitError.badInput("field \(name).type: a second UNKNOWN piece (first is pieces[\(u)])") }
                unk = i
            }
            if p.type == .byte {
                if !trainerSpec.byteFallback {
                    throw TokenKitError.badInput("field \(name).type: BYTE piece \(show(p.bytes)) but trainer_spec.byte_fallback is false")
                }
                if byteValue(p.bytes) == nil {
                    throw TokenKitError.badInput("field \(name).piece: BYTE piece \(show(p.bytes)) is not <0x00>…<0xFF>")
                }
            }
        }
        if unk == nil { throw TokenKitError.badInput("field pieces: no piece of type UNKNOWN") }
        if ModelType(rawValue: trainerSpec.modelTypeRaw) == nil {
            throw TokenKitError.badInput("field trainer_spec.model_type: unknown model type \(trainerSpec.modelTypeRaw)")
        }
        let blob = normalizerSpec.precompiledCharsmap
        if !blob.isEmpty {
            do { _ = try PrecompiledCharsMap(blob) } catch let e as TokenKitError {
                throw TokenKitError.badInput("field normalizer_spec.\(e.message)")
            }
        }
    }

    // MARK: Writing

    /// The model as a `.model` file that the sentencepiece library loads.
    public func serialized() -> [UInt8] {
        var w = ProtoWriter()
        var pw = ProtoWriter()
        for p in pieces {
            pw.out.removeAll(keepingCapacity: true)
            pw.bytesField(1, p.bytes)
            if p.hasScore || p.score != 0 { pw.floatField(2, p.score) }
            if p.hasType || p.type != .normal { pw.varintField(3, UInt64(p.type.rawValue)) }
            pw.out.append(contentsOf: p.extra)
            w.bytesField(1, pw.out)
        }
        w.bytesField(2, trainerSpec.raw.serialized())
        w.bytesField(3, normalizerSpec.raw.serialized())
        if let s = selfTestData { w.bytesField(4, s) }
        if let d = denormalizerSpec { w.bytesField(5, d.raw.serialized()) }
        for f in extraFields { w.field(f) }
        return w.out
    }
}

/// `<0xAB>` → 0xAB (upper-case hex only, as spm's PieceToByte).
func show(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self).debugDescription }
