import Foundation
import TokenKitCore

extension TokenizerLoader {
    /// The model file inside a folder given as a model (a Hugging Face snapshot, say):
    /// tokenizer.json, else tokenizer.model, else tekken.json (Mistral's), else vocab.json (with
    /// merges.txt beside it), else BERT's vocab.txt, else RWKV's rwkv_vocab_v20230424.txt, else
    /// the folder's only `.model` or `.tiktoken` file. A file path is returned as it is.
    public static func modelFile(_ path: String) throws -> String {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else { return path }
        let dir = path.hasSuffix("/") ? String(path.dropLast()) : path
        for name in ["tokenizer.json", "tokenizer.model", "tekken.json", "vocab.json", "vocab.txt", "rwkv_vocab_v20230424.txt"] where fileExists(dir + "/" + name) {
            return dir + "/" + name
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        let candidates = names.filter { $0.hasSuffix(".model") || $0.hasSuffix(".tiktoken") || $0.hasSuffix(".gguf") }.sorted()
        if candidates.count == 1 { return dir + "/" + candidates[0] }
        throw TokenKitError.badInput(candidates.isEmpty
            ? "a folder without a tokenizer: expected tokenizer.json, tokenizer.model, tekken.json, vocab.json + merges.txt, vocab.txt, rwkv_vocab_v20230424.txt, or one .model, .tiktoken or .gguf file"
            : "a folder with several tokenizers (\(candidates.joined(separator: ", "))); give the file", file: path)
    }
}
