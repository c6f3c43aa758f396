import TokenKitCore
import TokenKitModels

/// Lookup structures derived from a model's pieces and specs.
package struct Compiled: Sendable {
    /// NORMAL, USER_DEFINED and UNUSED pieces (spm's `pieces_`), and the rest (`reserved_id_map_`).
    var normal: PieceTrie
    var reserved: PieceTrie
    /// USER_DEFINED pieces: matched before normalization and never split (spm's PrefixMatcher).
    var userDefined: PieceTrie
    var charsMap: PrecompiledCharsMap?
    var unkID: Int?
    var types: [UInt8]
    var scores: [Float]
    /// Id of each byte piece `<0xXX>` (the unknown id where missing), when byte fallback is on.
    var byteIDs: [Int32]?
    var unigram: UnigramModel
    /// Every piece's bytes by id.
    package var vocab: TokenTable
    var modelType: SentencePieceModel.ModelType
    // Normalizer settings.
    var addDummyPrefix: Bool
    var removeExtraWhitespaces: Bool
    var escapeWhitespaces: Bool
    var treatWhitespaceAsSuffix: Bool
    var unkSurface: [UInt8]
    /// No NORMAL/USER_DEFINED/UNUSED piece has U+2581 after a character other than U+2581.
    var bpeSegmentable: Bool

    init(pieces: [SentencePieceModel.Piece], trainerSpec: TrainerSpec, normalizerSpec: NormalizerSpec) {
        var normalKeys: [([UInt8], Int32)] = []
        var reservedKeys: [([UInt8], Int32)] = []
        var userKeys: [([UInt8], Int32)] = []
        var unk: Int?
        normalKeys.reserveCapacity(pieces.count)
        for (i, p) in pieces.enumerated() {
            switch p.type {
            case .normal, .unused: normalKeys.append((p.bytes, Int32(i)))
            case .userDefined:
                normalKeys.append((p.bytes, Int32(i)))
                userKeys.append((p.bytes, Int32(i)))
            case .unknown:
                if unk == nil { unk = i }
                reservedKeys.append((p.bytes, Int32(i)))
            case .control, .byte: reservedKeys.append((p.bytes, Int32(i)))
            }
        }
        bpeSegmentable = !normalKeys.contains { key in key.0.withUnsafeBytes { MetaspaceWords.joinsBeforeMetaspace($0) } }
        normal = PieceTrie(normalKeys)
        reserved = PieceTrie(reservedKeys)
        userDefined = PieceTrie(userKeys)
        unkID = unk
        types = pieces.map { UInt8($0.type.rawValue) }
        scores = pieces.map(\.score)
        let blob = normalizerSpec.precompiledCharsmap
        charsMap = blob.isEmpty ? nil : try? PrecompiledCharsMap(blob)
        modelType = SentencePieceModel.ModelType(rawValue: trainerSpec.modelTypeRaw) ?? .unigram
        addDummyPrefix = normalizerSpec.addDummyPrefix
        removeExtraWhitespaces = normalizerSpec.removeExtraWhitespaces
        escapeWhitespaces = normalizerSpec.escapeWhitespaces
        treatWhitespaceAsSuffix = trainerSpec.treatWhitespaceAsSuffix
        unkSurface = trainerSpec.unkSurface
        var byteIDs: [Int32]?
        if trainerSpec.byteFallback {
            var b = [Int32](repeating: Int32(unk ?? -1), count: 256)
            for (i, p) in pieces.enumerated() where p.type == .byte {
                if let v = byteValue(p.bytes), b[Int(v)] == Int32(unk ?? -1) { b[Int(v)] = Int32(i) }
            }
            byteIDs = b
        }
        self.byteIDs = byteIDs
        vocab = (try? TokenTable(pieces.enumerated().map { ($0.element.bytes, TokenID($0.offset)) }, allowDuplicateBytes: true))
            ?? TokenTable()
        unigram = UnigramModel(keys: normalKeys, types: types, scores: scores, unkID: unk, byteIDs: byteIDs)
    }

    /// spm's `PieceToId`.
    func pieceToID(_ piece: UnsafeBufferPointer<UInt8>) -> Int {
        if let id = reserved.lookup(piece) { return Int(id) }
        if let id = normal.lookup(piece) { return Int(id) }
        return unkID ?? -1
    }

    @inline(__always) func type(_ id: Int) -> SentencePieceModel.PieceType? {
        id >= 0 && id < types.count ? SentencePieceModel.PieceType(rawValue: Int32(types[id])) : nil
    }

    // MARK: Normalizer (normalizer.cc)

    static let space: [UInt8] = [0xE2, 0x96, 0x81]  // U+2581 ▁
    static let replacementChar: [UInt8] = [0xEF, 0xBF, 0xBD]
    static let noRules = [Int32](repeating: -2, count: 128)

    /// spm's `NormalizePrefix`: the normalized form of the longest unit at `i` and the number
    /// of input bytes it consumes. `body` gets the replacement as a buffer.
    @inline(__always)
    func normalizePrefix<R>(_ t: UnsafeBufferPointer<UInt8>, _ i: Int, _ strings: UnsafeBufferPointer<UInt8>,
                            _ cm: UnsafeBufferPointer<UInt32>, _ body: (UnsafeBufferPointer<UInt8>, Int) -> R) -> R {
        if !userDefined.isEmpty, let m = userDefined.longestPrefix(t, i, t.count) {
            return body(UnsafeBufferPointer(rebasing: t[i..<(i + m.length)]), m.length)
        }
        if cm.count > 0, let m = DartsArray.longestPrefix(cm, t, i, t.count) {
            let r = PrecompiledCharsMap.replacement(strings, m.value)
            return body(UnsafeBufferPointer(rebasing: strings[r]), m.length)
        }
        let d = UTF8Scan.decode(t, i)
        if !d.valid {
            return Compiled.replacementChar.withUnsafeBufferPointer { body($0, 1) }
        }
        return body(UnsafeBufferPointer(rebasing: t[i..<(i + d.length)]), d.length)
    }

    func normalize(_ input: [UInt8]) -> [UInt8] {
        input.withUnsafeBufferPointer { normalize($0) }
    }

    func normalize(_ t: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        let strings = charsMap?.strings ?? []
        let units = charsMap?.trie.units ?? []
        return strings.withUnsafeBufferPointer { s in
            units.withUnsafeBufferPointer { u in normalize(t, s, u) }
        }
    }

    func normalize(_ t: UnsafeBufferPointer<UInt8>, _ strings: UnsafeBufferPointer<UInt8>,
                   _ cmTrie: UnsafeBufferPointer<UInt32>) -> [UInt8] {
        let n = t.count
        var i = 0
        let space: UInt8 = 0x20
        if removeExtraWhitespaces {
            while i < n {
                let c = normalizePrefix(t, i, strings, cmTrie) { p, c in p.count == 1 && p[0] == space ? c : 0 }
                if c == 0 { break }
                i += c
            }
        }
        if i == n { return [] }
        var out = ByteSink(capacity: (n - i) * 5 / 4 + 64)
        defer { out.free() }
        let escape = escapeWhitespaces
        func addSpace(_ out: inout ByteSink) {
            if escape { out.appendSpaceSymbol() } else { out.append(space) }
        }
        if !treatWhitespaceAsSuffix && addDummyPrefix { addSpace(&out) }
        var isPrevSpace = removeExtraWhitespaces
        // Fast path for ASCII with no user-defined pieces: copied as is (no rules), or a
        // replacement that does not depend on what follows.
        let plain = userDefined.isEmpty
        let asciiKind = charsMap?.asciiKind ?? Compiled.noRules
        let asciiRepl = charsMap?.asciiReplacement ?? []
        while i < n {
            if plain && t[i] < 0x80 && asciiKind[Int(t[i])] != -1 {
                let b = t[i]
                if asciiKind[Int(b)] >= 0 {
                    // A one-byte rule: its replacement, as the general path below.
                    let r = asciiRepl[Int(b)]
                    var s = r.lowerBound
                    if isPrevSpace { while s < r.upperBound && strings[s] == space { s += 1 } }
                    if s < r.upperBound {
                        for k in s..<r.upperBound {
                            let c = strings[k]
                            if escape && c == space { out.appendSpaceSymbol() } else { out.append(c) }
                        }
                        isPrevSpace = strings[r.upperBound - 1] == space
                    }
                    i += 1
                    if !removeExtraWhitespaces { isPrevSpace = false }
                    continue
                }
                i += 1
                if b == space {
                    if isPrevSpace { continue }
                    addSpace(&out)
                    isPrevSpace = removeExtraWhitespaces
                } else {
                    // A run of plain ASCII (no rule, no space) is copied at once.
                    var j = i
                    while j < n && t[j] < 0x80 && t[j] != space && asciiKind[Int(t[j])] == -2 { j += 1 }
                    out.append(b)
                    if j > i { out.append(UnsafeBufferPointer(rebasing: t[i..<j])) }
                    i = j
                    isPrevSpace = false
                }
                continue
            }
            let consumed = normalizePrefix(t, i, strings, cmTrie) { p, consumed -> Int in
                var s = 0
                if isPrevSpace { while s < p.count && p[s] == space { s += 1 } }
                if s < p.count {
                    for k in s..<p.count {
                        let b = p[k]
                        if escape && b == space { out.appendSpaceSymbol() } else { out.append(b) }
                    }
                    isPrevSpace = p[p.count - 1] == space
                }
                return consumed
            }
            i += consumed
            if !removeExtraWhitespaces { isPrevSpace = false }
        }
        if removeExtraWhitespaces {
            if escape {
                while out.count >= 3 && out.p[out.count - 3] == 0xE2 && out.p[out.count - 2] == 0x96 && out.p[out.count - 1] == 0x81 {
                    out.count -= 3
                }
            } else {
                while out.count > 0 && out.p[out.count - 1] == space { out.count -= 1 }
            }
        }
        if treatWhitespaceAsSuffix && addDummyPrefix { addSpace(&out) }
        return Array(UnsafeBufferPointer(start: out.p, count: out.count))
    }
}

/// A growable byte buffer without Array's per-append checks (the normalizer's output).
struct ByteSink {
    var p: UnsafeMutablePointer<UInt8>
    var count = 0
    var capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 16)
        p = .allocate(capacity: self.capacity)
    }

    func free() { p.deallocate() }

    @inline(__always) mutating func reserve(_ k: Int) {
        if count + k > capacity { grow(count + k) }
    }

    mutating func grow(_ need: Int) {
        let cap = max(need, capacity * 2)
        let q = UnsafeMutablePointer<UInt8>.allocate(capacity: cap)
        q.update(from: p, count: count)
        p.deallocate()
        p = q
        capacity = cap
    }

    @inline(__always) mutating func append(_ b: UInt8) {
        reserve(1)
        p[count] = b
        count += 1
    }

    @inline(__always) mutating func appendSpaceSymbol() {
        reserve(3)
        p[count] = 0xE2
        p[count + 1] = 0x96
        p[count + 2] = 0x81
        count += 3
    }

    @inline(__always) mutating func append(_ b: UnsafeBufferPointer<UInt8>) {
        reserve(b.count)
        (p + count).update(from: b.baseAddress!, count: b.count)
        count += b.count
    }
}
