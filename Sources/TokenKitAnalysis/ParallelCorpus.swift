import Foundation
import TokenKitCore

/// Something wrong with one language or file that does not stop the analysis; the CLI prints it
/// as a warning and the reports list it.
public struct Problem: Sendable, Equatable, CustomStringConvertible {
    /// The language concerned, if any.
    public var language: String?
    /// The file the message is about (a language file, a model, the corpus).
    public var file: String?
    public var message: String

    public init(language: String? = nil, file: String? = nil, _ message: String) {
        self.language = language
        self.file = file
        self.message = message
    }

    public var description: String { file.map { "\($0): \(message)" } ?? message }
}

/// One language of a parallel corpus: its lines, in order, aligned with the other languages.
///
/// Lines are cut at "\n"; a final empty piece (the text ends with "\n") is not a line, and one
/// "\r" before a "\n" is dropped. Lines are kept byte for byte otherwise (no trimming, no
/// normalization), as the reference libraries would receive them.
public struct CorpusLanguage: Sendable {
    public let code: String
    /// The file it came from (for a TSV corpus: the TSV file and column).
    public let source: String
    /// All lines, each followed by "\n".
    public let text: [UInt8]
    /// Byte range of each line in `text`, without its newline.
    public let lines: [Range<Int>]
    /// Byte offset of the first invalid UTF-8 sequence in `text`, if any.
    public let firstInvalidUTF8: Int?

    public init(code: String, source: String, lines: [[UInt8]]) {
        self.code = code
        self.source = source
        var text: [UInt8] = []
        text.reserveCapacity(lines.reduce(0) { $0 + $1.count + 1 })
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(lines.count)
        for l in lines {
            ranges.append(text.count..<text.count + l.count)
            text += l
            text.append(0x0A)
        }
        self.text = text
        self.lines = ranges
        firstInvalidUTF8 = UTF8Scan.firstInvalid(text)
    }

    public var lineCount: Int { lines.count }

    /// Whether line `i` holds nothing but white space.
    public func isBlank(_ i: Int) -> Bool {
        text[lines[i]].allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0B || $0 == 0x0C }
    }

    /// The 1-based line number holding byte `offset` of `text`.
    public func lineNumber(at offset: Int) -> Int {
        var lo = 0, hi = lines.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if lines[mid].upperBound < offset { lo = mid + 1 } else { hi = mid }
        }
        return lo + 1
    }

    /// Cuts file contents into lines (see the type's description).
    public static func splitLines(_ data: [UInt8]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var s = 0
        for i in 0..<data.count where data[i] == 0x0A {
            var e = i
            if e > s, data[e - 1] == 0x0D { e -= 1 }
            out.append(Array(data[s..<e]))
            s = i + 1
        }
        if s < data.count {
            var e = data.count
            if data[e - 1] == 0x0D { e -= 1 }
            out.append(Array(data[s..<e]))
        }
        return out
    }
}

/// A parallel corpus: aligned lines in several languages.
///
/// Either a folder with one text file per language, named by its code (`eng.txt`, `cmn_hans.txt`;
/// files whose names start with an upper-case letter or a dot, such as MANIFEST.tsv or README,
/// are not languages), or a TSV file whose header row names the languages and whose every
/// other row holds one aligned segment per column.
public struct ParallelCorpus: Sendable {
    public var path: String
    public var languages: [CorpusLanguage]
    /// Languages asked for that could not be read, and other warnings found while reading.
    public var problems: [Problem]
    /// Codes that were asked for (or found) but could not be read: code → reason.
    public var missing: [(code: String, message: String)]

    public init(path: String, languages: [CorpusLanguage], problems: [Problem] = [], missing: [(code: String, message: String)] = []) {
        self.path = path
        self.languages = languages
        self.problems = problems
        self.missing = missing
    }

    public func language(_ code: String) -> CorpusLanguage? { languages.first { $0.code == code } }

    /// Reads a folder or a TSV file. `only` restricts (and orders) the languages; a code in it
    /// with no file is reported in `missing`, not thrown.
    public static func load(_ path: String, only: [String]? = nil) throws -> ParallelCorpus {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw TokenKitError.badInput("no such file or folder", file: path)
        }
        return isDir.boolValue ? try loadFolder(path, only: only) : try loadTSV(path, only: only)
    }

    /// The language files of a folder: code → path, sorted by code.
    public static func languageFiles(in dir: String) throws -> [(code: String, path: String)] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: dir) } catch {
            throw TokenKitError.badInput("cannot list the folder: \(error.localizedDescription)", file: dir)
        }
        var out: [(String, String)] = []
        for name in names {
            guard let first = name.unicodeScalars.first, first != ".", !CharacterSet.uppercaseLetters.contains(first) else { continue }
            let code: String
            if name.hasSuffix(".txt") { code = String(name.dropLast(4)) } else if !name.contains(".") { code = name } else { continue }
            if code.isEmpty { continue }
            let full = dir.hasSuffix("/") ? dir + name : dir + "/" + name
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: full, isDirectory: &isDir), isDir.boolValue {
                // A folder named like a language file is a mistake worth saying; other folders are not languages.
                if name.hasSuffix(".txt") { throw TokenKitError.badInput("is a folder, not a language file", file: full) }
                continue
            }
            out.append((code, full))
        }
        return out.sorted { $0.0 < $1.0 }
    }

    static func loadFolder(_ dir: String, only: [String]?) throws -> ParallelCorpus {
        let files = try languageFiles(in: dir)
        var corpus = ParallelCorpus(path: dir, languages: [])
        let wanted: [(code: String, path: String?)]
        if let only {
            let byCode = Dictionary(files.map { ($0.code, $0.path) }, uniquingKeysWith: { a, _ in a })
            wanted = only.map { ($0, byCode[$0]) }
        } else {
            if files.isEmpty { throw TokenKitError.badInput("no language files (CODE.txt) in this folder", file: dir) }
            wanted = files.map { ($0.code, $0.path) }
        }
        for (code, file) in wanted {
            guard let file else {
                let msg = "no file \(code).txt for language \(code)"
                corpus.missing.append((code, msg))
                corpus.problems.append(Problem(language: code, file: dir, msg))
                continue
            }
            do {
                let data = try readFile(file)
                corpus.languages.append(CorpusLanguage(code: code, source: file, lines: CorpusLanguage.splitLines(data)))
            } catch let e as TokenKitError {
                corpus.missing.append((code, e.message))
                corpus.problems.append(Problem(language: code, file: file, e.message))
            }
        }
        return corpus
    }

    static func loadTSV(_ path: String, only: [String]?) throws -> ParallelCorpus {
        let rows = CorpusLanguage.splitLines(try readFile(path))
        guard let header = rows.first else { throw TokenKitError.badInput("empty TSV file: the first row must name the languages", file: path) }
        let codes = header.split(separator: 0x09, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        }
        if let empty = codes.firstIndex(of: "") {
            throw TokenKitError.badInput("header column \(empty + 1) is empty: the first row must name each column's language", file: path)
        }
        if let dup = Dictionary(grouping: codes, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw TokenKitError.badInput("language \(dup) names two columns of the header", file: path)
        }
        var columns = [[[UInt8]]](repeating: [], count: codes.count)
        var problems: [Problem] = []
        var short: [Int] = [], long: [Int] = []
        for (n, row) in rows.enumerated().dropFirst() {
            let cells = row.split(separator: 0x09, omittingEmptySubsequences: false)
            if cells.count < codes.count { short.append(n + 1) }
            if cells.count > codes.count { long.append(n + 1) }
            for c in 0..<codes.count { columns[c].append(c < cells.count ? Array(cells[c]) : []) }
        }
        if !short.isEmpty {
            problems.append(Problem(file: path, "\(lineList(short)) \(short.count == 1 ? "has" : "have") fewer than \(codes.count) tab-separated cells; the missing cells are empty"))
        }
        if !long.isEmpty {
            problems.append(Problem(file: path, "\(lineList(long)) \(long.count == 1 ? "has" : "have") more than \(codes.count) tab-separated cells; the extra cells are left out"))
        }
        var corpus = ParallelCorpus(path: path, languages: [], problems: problems)
        let order: [String] = only ?? codes
        for code in order {
            guard let c = codes.firstIndex(of: code) else {
                let msg = "no column for language \(code) in the header"
                corpus.missing.append((code, msg))
                corpus.problems.append(Problem(language: code, file: path, msg))
                continue
            }
            corpus.languages.append(CorpusLanguage(code: code, source: "\(path) (column \(c + 1))", lines: columns[c]))
        }
        return corpus
    }
}

/// "line 3", "lines 3, 7, 9", "lines 3, 7, 9 … (12 in all)".
func lineList(_ numbers: [Int], limit: Int = 8) -> String {
    if numbers.count == 1 { return "line \(numbers[0])" }
    let shown = numbers.prefix(limit).map(String.init).joined(separator: ", ")
    return "lines \(shown)" + (numbers.count > limit ? " … (\(numbers.count) in all)" : "")
}
