import Foundation
import Testing
import TokenKit
import TokenKitCore
import TokenKitFormats

/// BERT's vocab.txt. The fixture is bert-base-uncased's vocabulary (Scripts/make_bert_vocab.py);
/// the goldens are HF's ids on BGE, which uses it (Fixtures/gguf). Scripts/check_interop.py
/// checks four tokenizer_config.json settings against HF's BertWordPieceTokenizer.
@Suite struct BertVocabTests {
    let path = fixture("models/bert-vocab/vocab.txt")

    @Test func vocabTxtGivesTheReferenceIDs() throws {
        let tok = try TokenizerLoader.load(path)
        #expect(tok.format == .bertVocab && tok.vocab.count == 30522)
        let cases = try GGUFTests().cases("ggml-vocab-bert-bge.gguf")
        for c in cases { #expect(try tok.encode(c.text) == c.ids, "\(String(decoding: c.text, as: UTF8.self).debugDescription)") }
        // [CLS] … [SEP] with --add-special-tokens; BERT's specials are matched in the text.
        #expect(try tok.postProcessorFrame()?.prefix == [101] && tok.postProcessorFrame()?.suffix == [102])
        #expect(try tok.encode("a [MASK] b") == [1037, 103, 1038])
    }

    /// The same vocabulary read from llama.cpp's GGUF gives the same ids and text on prose.
    @Test func vocabTxtEqualsItsGGUF() throws {
        let tok = try TokenizerLoader.load(path)
        let gguf = try TokenizerLoader.load(fixture("gguf/ggml-vocab-bert-bge.gguf"))
        var text: [UInt8] = []
        for lang in ["eng", "rus", "cmn_hans", "arb", "hin"] { text += try readFile(fixture("parallel/udhr/\(lang).txt")) }
        let ids = try tok.encode(text)
        #expect(ids == (try gguf.encode(text)))
        #expect(try tok.decode(ids) == (try gguf.decode(ids)))
    }

    /// tokenizer_config.json beside the file sets the normalizer; duplicates keep their last line,
    /// CRLF lines are read as lines, and a folder holding only vocab.txt is a model.
    @Test func configAndFileShapes() throws {
        let lines = String(decoding: try readFile(path), as: UTF8.self).split(separator: "\n").map(String.init)
        let uncased = try TokenizerLoader.load(path)
        try withTempDir { dir in
            try writeFileAtomically(dir + "/vocab.txt", Array((lines.joined(separator: "\r\n") + "\r\n").utf8))
            let crlf = try TokenizerLoader.load(dir)
            #expect(try crlf.encode("Héllo, World!") == (try uncased.encode("Héllo, World!")))
            try writeFileAtomically(dir + "/tokenizer_config.json", Array(#"{"do_lower_case": false}"#.utf8))
            let cased = try TokenizerLoader.load(dir)
            #expect(try cased.encode("hello, world!") == (try uncased.encode("hello, world!")))
            #expect(try cased.encode("Hello") != (try uncased.encode("Hello")))
            #expect(try cased.encode("é") != (try uncased.encode("é")))  // accents kept with case
            try writeFileAtomically(dir + "/tokenizer_config.json", Array(#"{"do_lower_case": "no"}"#.utf8))
            do {
                _ = try TokenizerLoader.load(dir)
                Issue.record("a bad setting was accepted")
            } catch let e as TokenKitError {
                #expect(e.description.contains("tokenizer_config.json.do_lower_case: expected true or false"), "\(e.description)")
            }
            try FileManager.default.removeItem(atPath: dir + "/tokenizer_config.json")
            try writeFileAtomically(dir + "/vocab.txt", Array((lines + ["the"]).joined(separator: "\n").utf8))
            let twice = try TokenizerLoader.load(dir + "/vocab.txt")
            #expect(try twice.encode("the") == [TokenID(lines.count)])
        }
    }
}
