import ArgumentParser
import Foundation
import TokenKit
import TokenKitCore

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
        let wide = dtype == .u32 || (dtype == .auto && (sidecar.map { $0 == "uint32" } ?? (tok.vocabSize > 65536)))
        do {
            docs = try bin ? [parseBin(data, wide: wide)] : IDParser.parse(data)
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
/// array, or record) is one document.
enum IDParser {
    static func parse(_ data: [UInt8]) throws -> [[TokenID]] {
        var docs: [[TokenID]] = []
        var line = 1
        var i = 0
        var current: [TokenID] = []
        var inDoc = false
        var depth = 0
        while i < data.count {
            let b = data[i]
            switch b {
            case 0x30...0x39:
                var v: UInt64 = 0
                while i < data.count, data[i] >= 0x30, data[i] <= 0x39 {
                    v = v * 10 + UInt64(data[i] - 0x30)
                    if v > UInt64(UInt32.max) { throw TokenKitError.badInput("line \(line): id too large") }
                    i += 1
                }
                current.append(TokenID(v))
                inDoc = true
                continue
            case 0x0A:
                if depth == 0, inDoc { docs.append(current); current = []; inDoc = false }
                line += 1
            case UInt8(ascii: "["):
                depth += 1
                if depth == 1 || (depth == 2 && docs.isEmpty && current.isEmpty) { inDoc = true }
            case UInt8(ascii: "]"):
                if depth > 0 { depth -= 1 }
                if inDoc, depth <= 1 { docs.append(current); current = []; inDoc = false }
            case UInt8(ascii: "{"):
                // JSONL: skip to the "ids" array.
                guard let r = find(Array("\"ids\"".utf8), in: data, from: i) else {
                    throw TokenKitError.badInput("line \(line): JSON record without an \"ids\" field")
                }
                i = r
                continue
            case UInt8(ascii: "}"), 0x20, 0x09, 0x0D, UInt8(ascii: ","), UInt8(ascii: ":"), UInt8(ascii: "\""):
                break
            case UInt8(ascii: "-"):
                throw TokenKitError.badInput("line \(line): negative id")
            default:
                throw TokenKitError.badInput("line \(line): unexpected character \(String(decoding: [b], as: UTF8.self).debugDescription); expected token ids")
            }
            i += 1
        }
        if inDoc { docs.append(current) }
        return docs
    }

    /// Index just past `needle` at or after `from`, skipping any "file" value before it.
    static func find(_ needle: [UInt8], in data: [UInt8], from: Int) -> Int? {
        var i = from
        while i + needle.count <= data.count {
            if data[i] == 0x0A { return nil }
            if data[i..<(i + needle.count)].elementsEqual(needle) { return i + needle.count }
            i += 1
        }
        return nil
    }
}
