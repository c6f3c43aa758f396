// A mutation fuzzer over every input tokenkit parses: tokenizer.json, tiktoken ranks, SentencePiece
// .model, GGUF, GPT-2 vocab.json + merges.txt, model-cache entries, word-count files and decode input. Each input is written
// to WORK/current/ with the command lines that read it (commands.txt, tab-separated, run there)
// before it is run in process, so when a run traps or hangs the case is on disk: Scripts/fuzz
// copies it to Fixtures/fuzz/cases/, and FuzzRegressionTests replays every case found so far.
//
// Usage: tokenkit-fuzz --fixtures DIR --work DIR [--seconds 60] [--seed 1]
import Foundation
import TokenKitCommands
import TokenKitCore
import TokenKitFormats

var options: [String: String] = [:]
var argv = Array(CommandLine.arguments.dropFirst())[...]
while let key = argv.popFirst(), let value = argv.popFirst() { options[key] = value }
guard let fixtures = options["--fixtures"], let work = options["--work"] else {
    FileHandle.standardError.write(Data("usage: tokenkit-fuzz --fixtures DIR --work DIR [--seconds S] [--seed N]\n".utf8))
    exit(2)
}
let budget = Double(options["--seconds"] ?? "60") ?? 60
var rng = SplitMix64(seed: UInt64(options["--seed"] ?? "1") ?? 1)

func read(_ path: String) -> [UInt8] {
    guard let d = FileManager.default.contents(atPath: fixtures + "/" + path) else {
        FileHandle.standardError.write(Data("tokenkit-fuzz: missing fixture \(path)\n".utf8))
        exit(2)
    }
    return Array(d)
}

// MARK: Seeds

/// GPT-2's byte alphabet, for hand-made byte-level vocabularies.
func spell(_ b: UInt8) -> String {
    var next = 256
    for x in 0..<256 {
        let printable = (0x21...0x7E).contains(x) || (0xA1...0xAC).contains(x) || (0xAE...0xFF).contains(x)
        if x == Int(b) { return printable ? String(Unicode.Scalar(b)) : String(Unicode.Scalar(UInt32(next))!) }
        if !printable { next += 1 }
    }
    return ""
}

func quote(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        if u == "\"" || u == "\\" { out += "\\" + String(u) } else if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
    }
    return out + "\""
}

let extra = ["he", "ll", "hell", "hello", "Ġw", "or", "Ġwor", "ld", "Ġworld"]
let merges = ["h e", "l l", "he ll", "hell o", "Ġ w", "o r", "Ġw or", "l d", "Ġwor ld"]
let vocabEntries = (0..<256).map { "\(quote(spell(UInt8($0)))): \($0)" } + extra.enumerated().map { "\(quote($0.element)): \(256 + $0.offset)" }
let byteLevelJSON = """
    {"version": "1.0", "truncation": null, "padding": null,
     "added_tokens": [{"id": 265, "content": "<|end|>", "single_word": false, "lstrip": true, "rstrip": false, "normalized": false, "special": true},
                      {"id": 266, "content": ".\\nA", "single_word": true, "lstrip": false, "rstrip": true, "normalized": true, "special": false}],
     "normalizer": {"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "Replace", "pattern": {"Regex": "\\\\s{3,}"}, "content": "  "}, {"type": "Strip", "strip_left": false, "strip_right": true}]},
     "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "'s|'t| ?\\\\p{L}+| ?\\\\p{N}+| ?[^\\\\s\\\\p{L}\\\\p{N}]+|\\\\s+(?!\\\\S)|\\\\s+"}, "behavior": "Isolated", "invert": false}, {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}]},
     "post_processor": null,
     "decoder": {"type": "Sequence", "decoders": [{"type": "ByteLevel"}, {"type": "Replace", "pattern": {"String": "_"}, "content": " "}, {"type": "Strip", "content": " ", "start": 1, "stop": 2}]},
     "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null, "end_of_word_suffix": null,
               "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
               "vocab": {\(vocabEntries.joined(separator: ", "))},
               "merges": [\(merges.map(quote).joined(separator: ", "))]}}
    """
let metaspaceJSON = """
    {"version": "1.0", "added_tokens": [{"id": 0, "content": "<unk>", "special": true}],
     "normalizer": {"type": "Sequence", "normalizers": [{"type": "NFKD"}, {"type": "Lowercase"}, {"type": "StripAccents"}]},
     "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true},
     "decoder": {"type": "Sequence", "decoders": [{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
     "model": {"type": "Unigram", "unk_id": 0, "byte_fallback": false,
               "vocab": [["<unk>", 0.0], ["▁", -2.0], ["a", -3.0], ["b", -3.5], ["ab", -2.5], ["▁ab", -2.2], ["c", -4.0], ["é", -5.0]]}}
    """
let rankLines = read("models/r50k_base.tiktoken").split(separator: 0x0A).prefix(1200)
let smallRanks = Array(rankLines.joined(separator: [0x0A])) + [0x0A]
let vocabJSON = "{" + vocabEntries.joined(separator: ", ") + ", \"<|endoftext|>\": 265}"
let mergesTxt = "#version: 0.2\n" + merges.joined(separator: "\n") + "\n"
func countsFile(_ words: [(String, Int)]) -> [UInt8] {
    Array(("#tokenkit-word-counts 1 pre=r50k norm=none\n" + words.map { "\($0.1)\t\(Data($0.0.utf8).base64EncodedString())" }.joined(separator: "\n") + "\n").utf8)
}
let sampleText = Array("Hello world, it's 2024! hello   hello\n.\nA<|end|> naïve café 東京 🙂 ab abc\tend\n".utf8)

struct Target {
    let kind: String
    /// Sets of files (name → bytes); one of them is mutated per input.
    let seeds: [[String: [UInt8]]]
    /// Command lines, run in the case's folder.
    let commands: [[String]]
}

let base = ["base.tiktoken": smallRanks, "text.txt": sampleText]

/// RWKV's world vocabulary, its first 3,000 lines (every byte and common tokens), so that a run is quick.
let rwkvSmall = Array(read("models/rwkv-world/rwkv_vocab_v20230424.txt").split(separator: 0x0A).prefix(3000).joined(separator: [0x0A])) + [0x0A]

/// Model-cache entries: a model file named `model` and its entry, made here by loading it once.
let cacheSeeds: [[String: [UInt8]]] = [smallRanks, Array(byteLevelJSON.utf8), Array(metaspaceJSON.utf8),
                                       read("models/botchan-unigram/tokenizer.json"), read("models/wordpiece-bert/tokenizer.json"),
                                       read("tekken/tekken-3k.json"), rwkvSmall].map { model in
    let dir = NSTemporaryDirectory() + "tokenkit-fuzz-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try! writeFileAtomically(dir + "/model", model)
    _ = try! TokenizerLoader.loadReporting(dir + "/model", options: .init(cache: ModelCache(directory: dir)))
    let name = SHA256.hex(model) + ".tkmodel"
    return ["model": model, name: Array(FileManager.default.contents(atPath: dir + "/" + name)!)].merging(base) { a, _ in a }
}

/// Half the mutated entries get a header that matches again (length and checksum), so the
/// payload reader itself meets the damage instead of the checksum.
func resealed(_ entry: [UInt8]) -> [UInt8] {
    guard entry.count >= 64, rng.next() & 1 == 0 else { return entry }
    var d = entry
    let sum = d[64...].withUnsafeBytes { checksum64($0) }
    withUnsafeBytes(of: UInt64(d.count - 64).littleEndian) { d.replaceSubrange(16..<24, with: $0) }
    withUnsafeBytes(of: sum.littleEndian) { d.replaceSubrange(24..<32, with: $0) }
    return d
}
/// A trigram LM over the small rank file's ids, trained here on the sample text.
let arpaSeed: [UInt8] = {
    let dir = NSTemporaryDirectory() + "tokenkit-fuzz-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try! writeFileAtomically(dir + "/base.tiktoken", smallRanks)
    try! writeFileAtomically(dir + "/text.txt", sampleText + sampleText.reversed())
    var train = try! TokenKitCommand.parseAsRoot(["train", "lm", "-q", "-m", dir + "/base.tiktoken", "--order", "3",
                                                  "--document-separator", "\\n", "-o", dir + "/lm.arpa", dir + "/text.txt"])
    try! train.run()
    return Array(FileManager.default.contents(atPath: dir + "/lm.arpa")!)
}()

let targets = [
    Target(kind: "tokenizer-json", seeds: [["tokenizer.json": Array(byteLevelJSON.utf8)], ["tokenizer.json": Array(metaspaceJSON.utf8)],
                                            ["tokenizer.json": read("models/botchan-unigram/tokenizer.json")]].map { $0.merging(base) { a, _ in a } },
           commands: [["info", "--no-cache", "tokenizer.json"], ["encode", "--no-cache", "-m", "tokenizer.json", "--threads", "1", "-o", "/dev/null", "text.txt"],
                      ["decode", "--no-cache", "-m", "tokenizer.json", "-o", "/dev/null", "ids.txt"]]),
    Target(kind: "tiktoken", seeds: [["x.tiktoken": smallRanks].merging(base) { a, _ in a }],
           commands: [["encode", "--no-cache", "-m", "x.tiktoken", "--threads", "1", "-o", "/dev/null", "text.txt"], ["decode", "--no-cache", "-m", "x.tiktoken", "-o", "/dev/null", "ids.txt"]]),
    Target(kind: "spm", seeds: [["x.model": read("sentencepiece/botchan_en_unigram_1000.model")], ["x.model": read("sentencepiece/botchan_en_bpe_1000.model")]]
               .map { $0.merging(base) { a, _ in a } },
           commands: [["encode", "--no-cache", "-m", "x.model", "--threads", "1", "-o", "/dev/null", "text.txt"], ["decode", "--no-cache", "-m", "x.model", "-o", "/dev/null", "ids.txt"]]),
    Target(kind: "gguf", seeds: [["x.gguf": read("gguf/ggml-vocab-bert-bge.gguf")], ["x.gguf": read("gguf/ggml-vocab-deepseek-coder.gguf")]]
               .map { $0.merging(base) { a, _ in a } },
           commands: [["encode", "--no-cache", "-m", "x.gguf", "--threads", "1", "-o", "/dev/null", "text.txt"], ["decode", "--no-cache", "-m", "x.gguf", "-o", "/dev/null", "ids.txt"]]),
    Target(kind: "tekken", seeds: [["tekken.json": read("tekken/tekken-3k.json")].merging(base) { a, _ in a }],
           commands: [["encode", "--no-cache", "-m", "tekken.json", "--threads", "1", "-o", "/dev/null", "text.txt"],
                      ["decode", "--no-cache", "-m", "tekken.json", "-o", "/dev/null", "ids.txt"]]),
    // The first 3,000 lines (with [UNK] and "##" tokens), so that a run is quick.
    Target(kind: "bert-vocab", seeds: [["vocab.txt": Array(read("models/bert-vocab/vocab.txt").split(separator: 0x0A).prefix(3000).joined(separator: [0x0A]))]
                                          .merging(base) { a, _ in a }],
           commands: [["encode", "--no-cache", "-m", "vocab.txt", "--threads", "1", "-o", "/dev/null", "text.txt"],
                      ["decode", "--no-cache", "-m", "vocab.txt", "-o", "/dev/null", "ids.txt"]]),
    Target(kind: "rwkv", seeds: [["rwkv_vocab.txt": rwkvSmall].merging(base) { a, _ in a }],
           commands: [["encode", "--no-cache", "-m", "rwkv_vocab.txt", "--threads", "1", "-o", "/dev/null", "text.txt"],
                      ["decode", "--no-cache", "-m", "rwkv_vocab.txt", "-o", "/dev/null", "ids.txt"]]),
    Target(kind: "gpt2-files", seeds: [["vocab.json": Array(vocabJSON.utf8), "merges.txt": Array(mergesTxt.utf8)].merging(base) { a, _ in a }],
           commands: [["encode", "--no-cache", "-m", "vocab.json", "--threads", "1", "-o", "/dev/null", "text.txt"], ["decode", "--no-cache", "-m", "vocab.json", "-o", "/dev/null", "ids.txt"]]),
    Target(kind: "word-counts", seeds: [["a.counts": countsFile([("hello", 40), ("Ġworld", 30), ("Ġhello", 12), (",", 9), ("low", 7)]),
                                         "b.counts": countsFile([("hello", 3), ("lower", 5), ("Ġnewest", 6)])]],
           commands: [["merge-counts", "-o", "/dev/null", "a.counts", "b.counts"],
                      ["train", "bpe", "--vocab-size", "270", "-q", "--threads", "1", "-o", "/dev/null", "--from-counts", "a.counts", "b.counts"]]),
    Target(kind: "cache-entry", seeds: cacheSeeds,
           commands: [["encode", "--cache-dir", ".", "-m", "model", "--threads", "1", "-o", "/dev/null", "text.txt"],
                      ["decode", "--cache-dir", ".", "-m", "model", "-o", "/dev/null", "ids.txt"],
                      ["info", "--cache-dir", ".", "model"]]),
    Target(kind: "arpa", seeds: [["lm.arpa": arpaSeed].merging(base) { a, _ in a }],
           commands: [["byteprob", "score", "-m", "base.tiktoken", "--lm", "lm.arpa", "--threads", "1", "text.txt"],
                      ["byteprob", "next", "-m", "base.tiktoken", "--lm", "lm.arpa", "--encodings", "canonical", "--prompt", "hel"]]),
    Target(kind: "decode-input", seeds: [["ids.txt": Array("15496 995 11 340\n0 1 2\n".utf8)], ["ids.txt": Array("[15496, 995, 11]".utf8)],
                                         ["ids.txt": Array("[[15496], [995, 0]]\n".utf8)],
                                         ["ids.txt": Array("{\"file\": \"a\", \"ids\": [15496, 995]}\n{\"ids\": [0], \"n\": 1}\n".utf8)],
                                         ["ids.bin": [0x57, 0x3C, 0xE3, 0x03, 0x0B, 0x00]]].map { $0.merging(base) { a, _ in a } },
           commands: [["decode", "--no-cache", "-m", "base.tiktoken", "-o", "/dev/null", "ids.txt"],
                      ["decode", "--no-cache", "-m", "base.tiktoken", "--format", "bin", "-o", "/dev/null", "ids.bin"]]),
]

// MARK: Mutation

let interesting: [UInt8] = Array("\0\u{7F}-09\"[]{},:\n \\".utf8) + [0xFF, 0x80, 0xC0, 0xE2]
let numbers = ["-1", "0", "4294967295", "4294967294", "2147483648", "1e308", "100000000", "-0.5", "1000000000000000",
               "9223372036854775807", "18446744073709551616", "NaN", "null", "\"\"", "[]", "{}"]

func randomInt(_ n: Int) -> Int { n <= 1 ? 0 : Int(rng.next() % UInt64(n)) }

func mutate(_ input: [UInt8]) -> [UInt8] {
    var d = input
    for _ in 0...randomInt(4) {
        if d.isEmpty { d = [interesting[randomInt(interesting.count)]]; continue }
        let i = randomInt(d.count)
        switch randomInt(8) {
        case 0: d[i] ^= 1 << UInt8(randomInt(8))
        case 1: d[i] = interesting[randomInt(interesting.count)]
        case 2: d.removeSubrange(i..<min(d.count, i + 1 + randomInt(64)))
        case 3:
            let piece = d[i..<min(d.count, i + 1 + randomInt(64))]
            d.insert(contentsOf: piece, at: randomInt(d.count + 1))
        case 4: d.insert(contentsOf: Array(numbers[randomInt(numbers.count)].utf8), at: i)
        case 5:
            // Replace a run of digits (a count, id, rank or length) by an interesting number.
            var s = i
            while s < d.count, !(0x30...0x39).contains(d[s]) { s += 1 }
            var e = s
            while e < d.count, (0x30...0x39).contains(d[e]) { e += 1 }
            if s < d.count { d.replaceSubrange(s..<e, with: Array(numbers[randomInt(numbers.count)].utf8)) }
        case 6: d.removeSubrange(randomInt(d.count)...)
        default:
            // Protobuf varints and lengths: a byte with the continuation bit, or a large length.
            d[i] = [0x80, 0xFF, 0x7F, 0x01][randomInt(4)]
        }
    }
    return d
}

// MARK: Run

let current = work + "/current"
let devNull = open("/dev/null", O_WRONLY)
dup2(devNull, 1)  // info and friends print to stdout
let start = Date()
var report: [String] = []
for (k, target) in targets.enumerated() {
    let until = start.addingTimeInterval(budget * Double(k + 1) / Double(targets.count))
    var inputs = 0
    while Date() < until {
        var files = target.seeds[randomInt(target.seeds.count)]
        let names = files.keys.sorted().filter {
            switch target.kind {
            case "decode-input": $0.hasPrefix("ids")
            case "cache-entry": $0.hasSuffix(".tkmodel")
            default: $0 != "text.txt" && $0 != "base.tiktoken"
            }
        }
        let name = names[randomInt(names.count)]
        files[name] = mutate(files[name]!)
        if target.kind == "cache-entry" { files[name] = resealed(files[name]!) }
        if files["ids.txt"] == nil { files["ids.txt"] = Array("0 1 2 265 266 300\n".utf8) }
        try? FileManager.default.removeItem(atPath: current)
        try! FileManager.default.createDirectory(atPath: current, withIntermediateDirectories: true)
        for (n, bytes) in files { try! writeFileAtomically(current + "/" + n, bytes) }
        let lines = target.commands.map { $0.joined(separator: "\t") }.joined(separator: "\n") + "\n"
        try! writeFileAtomically(current + "/commands.txt", Array(lines.utf8))
        _ = FileManager.default.changeCurrentDirectoryPath(current)
        for args in target.commands {
            do {
                var command = try TokenKitCommand.parseAsRoot(args)
                try command.run()
            } catch {}
        }
        inputs += 1
    }
    report.append("\(target.kind) \(inputs)")
}
FileHandle.standardError.write(Data("tokenkit-fuzz: \(report.joined(separator: ", ")) inputs in \(Int(Date().timeIntervalSince(start))) s, no crash\n".utf8))
