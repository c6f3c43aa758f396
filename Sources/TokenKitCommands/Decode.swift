import ArgumentParser
import Foundation
import TokenKit
import TokenKitCore
import TokenKitFormats

struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode token ids back into the exact bytes.",
        discussion: """
            Input: ids separated by white space, a JSON array (or array of arrays), JSONL records with
            an "ids" field, or raw little-endian ids (bin). Bin input is recognised without --format bin from
            its sidecar (FILE.json, as encode writes it, which also gives the dtype) or from its bytes (control
            bytes or invalid UTF-8, which text ids never hold). Ids not in the vocabulary are an error.

            Examples:
              echo "9906 1917" | tokenkit decode -m cl100k_base.tiktoken
              tokenkit encode -m tokenizer.json a.txt | tokenkit decode -m tokenizer.json -
              tokenkit decode -m r50k_base.tiktoken --format bin --dtype u16 train.bin
            """)

    enum InputFormat: String, ExpressibleByArgument, CaseIterable { case auto, bin }

    @OptionGroup var model: ModelOptions
    @OptionGroup var quietOption: QuietOption

    @Option(help: "Input format: auto (text, JSON or JSONL; bin when the sidecar or the bytes say so) or bin.")
    var format: InputFormat = .auto

    @Option(help: "Integer width of --format bin input: auto (from the vocabulary size), u16 or u32.")
    var dtype: BinDType = .auto

    @Flag(help: "Decode each input line (or JSON array / JSONL record) separately and end each with a newline.")
    var lines = false

    @Flag(help: "Leave special tokens out of the output.")
    var skipSpecial = false

    @Option(name: .shortAndLong, help: "Write to this file (atomically) instead of stdout.")
    var output: String?

    @Argument(help: "Input file; - or none for stdin.")
    var file: String = "-"

    mutating func run() throws {
        let tok = try model.load()
        let data = try readFile(file)
        let docs: [[TokenID]]
        // The sidecar's dtype, when encode wrote one beside the file.
        let sidecar = file == "-" ? nil : Decode.sidecarDType(file)
        let bin = format == .bin || (format == .auto && (sidecar != nil || Decode.looksBinary(data)))
        do {
            docs = try bin ? [parseBin(data, wide: try binIsWide(tok, data))] : IDParser.parse(data, emptyLines: lines)
        } catch let e as TokenKitError {
            throw e.inFile(file)
        }
        let out = try Output(path: output)
        for doc in docs {
            do {
                try out.write(try tok.decode(doc, skipSpecial: skipSpecial))
            } catch let e as TokenKitError {
                throw e.inFile(file)
            }
            if lines { try out.write([0x0A]) }
        }
        try out.finish()
    }

    /// The id width of a .bin input: --dtype, else the sidecar encode wrote beside it (OUT.json),
    /// else the vocabulary size. A sidecar that contradicts --dtype or the model is an error:
    /// reading u32 ids as u16 gives valid-looking ids and wrong text.
    func binIsWide(_ tok: Tokenizer, _ data: [UInt8]) throws -> Bool {
        var wide = dtype == .u32 || (dtype == .auto && tok.vocabSize > 65536)
        let sidecarPath = file + ".json"
        guard file != "-", fileExists(sidecarPath), let meta = try? JSON.parse(try readFile(sidecarPath)),
              case .string(let d)? = meta["dtype"] else {
            // No sidecar: u32 ids of a small vocabulary read as u16 alternate with zeros.
            if dtype == .auto, !wide, data.count >= 8, data.count % 4 == 0,
               stride(from: 2, to: data.count, by: 4).allSatisfy({ data[$0] == 0 && data[$0 + 1] == 0 }),
               stride(from: 0, to: data.count, by: 4).contains(where: { data[$0] != 0 || data[$0 + 1] != 0 }) {
                throw TokenKitError.badInput("every second 16-bit id is 0: these look like uint32 ids; pass --dtype u32 (or --dtype u16 to read them anyway)")
            }
            return wide
        }
        let sidecarWide = d == Array("uint32".utf8)
        if dtype != .auto, sidecarWide != wide {
            throw TokenKitError.usage("--dtype \(dtype.rawValue) contradicts \(sidecarPath), which says \(String(decoding: d, as: UTF8.self))")
        }
        wide = sidecarWide
        if case .number(_, let v?)? = meta["vocab_size"], v != Int64(tok.vocabSize) {
            throw TokenKitError.badInput("encoded with a vocabulary of \(v) ids (\(sidecarPath)), but \(tok.name) has \(tok.vocabSize)")
        }
        return wide
    }

    /// "uint16" or "uint32" from FILE.json, if that is encode's sidecar.
    static func sidecarDType(_ path: String) -> String? {
        guard fileExists(path + ".json"), let data = try? readFile(path + ".json"),
              let json = try? JSON.parse(data), json["byte_order"] != nil,
              let dtype = json["dtype"]?.stringValue, dtype == "uint16" || dtype == "uint32" else { return nil }
        return dtype
    }

    /// Text ids are ASCII digits, brackets, quotes and white space (JSONL file names may add
    /// UTF-8): a control byte or invalid UTF-8 in the first 64 KB means raw ids.
    static func looksBinary(_ data: [UInt8]) -> Bool {
        let head = Array(data.prefix(1 << 16))
        if head.contains(where: { $0 < 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D || $0 == 0x7F }) { return true }
        // A multi-byte character cut at the 64 KB mark is not invalid.
        guard let bad = UTF8Scan.firstInvalid(head) else { return false }
        return data.count <= head.count || bad < head.count - 3
    }

    func parseBin(_ data: [UInt8], wide: Bool) throws -> [TokenID] {
        let width = wide ? 4 : 2
        guard data.count % width == 0 else {
            throw TokenKitError.badInput("\(data.count) bytes is not a whole number of \(width)-byte ids (truncated file?)")
        }
        var ids: [TokenID] = []
        ids.reserveCapacity(data.count / width)
        var i = 0
        while i < data.count {
            var v = TokenID(data[i]) | TokenID(data[i + 1]) << 8
            if wide { v |= TokenID(data[i + 2]) << 16 | TokenID(data[i + 3]) << 24 }
            ids.append(v)
            i += width
        }
        return ids
    }
}

/// Reads ids written as text: plain integers, JSON arrays, or JSONL with "ids". Each line (or
/// array, or record) is one document. Each form is parsed strictly: a truncated array or a
/// stray character is an error naming the line. With `emptyLines`, an empty line of plain ids
/// is an empty document (encode --lines writes one for an empty line of text).
enum IDParser {
    static func parse(_ data: [UInt8], emptyLines: Bool = false) throws -> [[TokenID]] {
        guard let first = data.first(where: { !isSpace($0) }) else {
            return emptyLines ? Array(repeating: [], count: data.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }) : []
        }
        if first == UInt8(ascii: "{") { return try parseJSONL(data) }
        var p = Scanner(data: data)
        if first == UInt8(ascii: "[") { return try p.jsonArrays() }
        return try p.plain(emptyLines: emptyLines)
    }

    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }

    /// One JSON object per line, each with an "ids" array of integers; other fields are ignored.
    static func parseJSONL(_ data: [UInt8]) throws -> [[TokenID]] {
        var docs: [[TokenID]] = []
        for (n, line) in data.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated()
        where line.contains(where: { !isSpace($0) }) {
            let record: JSON
            do {
                record = try JSON.parse(Array(line))
            } catch let e as TokenKitError {
                throw TokenKitError.badInput("line \(n + 1): \(e.message)")
            }
            guard case .object = record, let field = record["ids"] else {
                throw TokenKitError.badInput("line \(n + 1): JSON record without an \"ids\" field")
            }
            guard case .array(let values) = field else { throw TokenKitError.badInput("line \(n + 1): \"ids\" is not an array") }
            docs.append(try values.map { v in
                guard case .number(_, let i?) = v, i >= 0, i <= Int64(UInt32.max) else {
                    throw TokenKitError.badInput("line \(n + 1): \"ids\" holds \(v.serialized()), not a token id")
                }
                return TokenID(i)
            })
        }
        return docs
    }

    struct Scanner {
        let data: [UInt8]
        var i = 0
        var line = 1

        init(data: [UInt8]) { self.data = data }

        mutating func skipSpace() {
            while i < data.count, IDParser.isSpace(data[i]) {
                if data[i] == 0x0A { line += 1 }
                i += 1
            }
        }

        func fail(_ what: String) -> TokenKitError {
            if i >= data.count { return TokenKitError.badInput("line \(line): \(what) at the end of the input (truncated?)") }
            let c = String(decoding: [data[i]], as: UTF8.self).debugDescription
            return TokenKitError.badInput("line \(line): \(what), found \(c)")
        }

        mutating func id() throws -> TokenID {
            if i < data.count, data[i] == UInt8(ascii: "-") { throw TokenKitError.badInput("line \(line): negative id") }
            guard i < data.count, data[i] >= 0x30, data[i] <= 0x39 else { throw fail("expected a token id") }
            var v: UInt64 = 0
            while i < data.count, data[i] >= 0x30, data[i] <= 0x39 {
                v = v * 10 + UInt64(data[i] - 0x30)
                if v > UInt64(UInt32.max) { throw TokenKitError.badInput("line \(line): id too large") }
                i += 1
            }
            return TokenID(v)
        }

        /// Whitespace-separated ids; each non-empty line (each line, with `emptyLines`) is a document.
        mutating func plain(emptyLines: Bool) throws -> [[TokenID]] {
            var docs: [[TokenID]] = []
            var current: [TokenID] = []
            while i < data.count {
                let b = data[i]
                if b == 0x0A {
                    if emptyLines || !current.isEmpty { docs.append(current); current = [] }
                    line += 1
                    i += 1
                } else if IDParser.isSpace(b) {
                    i += 1
                } else {
                    current.append(try id())
                    if i < data.count, !IDParser.isSpace(data[i]) { throw fail("expected white space after an id") }
                }
            }
            if !current.isEmpty { docs.append(current) }
            return docs
        }

        /// `[ids]`, `[[ids], [ids]]`, or several such arrays one after another.
        mutating func jsonArrays() throws -> [[TokenID]] {
            var docs: [[TokenID]] = []
            skipSpace()
            while i < data.count {
                guard data[i] == UInt8(ascii: "[") else { throw fail("expected a JSON array") }
                var k = i + 1
                while k < data.count, IDParser.isSpace(data[k]) { k += 1 }
                if k < data.count, data[k] == UInt8(ascii: "[") {
                    i += 1
                    try elements { s in docs.append(try s.array()) }
                } else {
                    docs.append(try array())
                }
                skipSpace()
            }
            return docs
        }

        /// A JSON array of ids.
        mutating func array() throws -> [TokenID] {
            guard i < data.count, data[i] == UInt8(ascii: "[") else { throw fail("expected a JSON array") }
            i += 1
            var ids: [TokenID] = []
            try elements { s in ids.append(try s.id()) }
            return ids
        }

        /// The elements after an opening bracket, through the closing one.
        mutating func elements(_ element: (inout Scanner) throws -> Void) throws {
            skipSpace()
            if i < data.count, data[i] == UInt8(ascii: "]") { i += 1; return }
            while true {
                skipSpace()
                try element(&self)
                skipSpace()
                guard i < data.count else { throw fail("expected , or ]") }
                if data[i] == UInt8(ascii: "]") { i += 1; return }
                guard data[i] == UInt8(ascii: ",") else { throw fail("expected , or ]") }
                i += 1
            }
        }
    }
}
