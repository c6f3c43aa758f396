import TokenKitCore

extension Tokenizer {
    /// The ids a model's post-processor puts around one sequence, as HF `encode(text)` with
    /// `add_special_tokens=True`: tokenizer.json's TemplateProcessing (its `single` template),
    /// RobertaProcessing and BertProcessing (`cls … sep`), and Sequence of those; a
    /// SentencePiece `.model` gets its BOS piece (spm's `add_bos`, as Llama's tokenizer.json
    /// does). nil when the model adds nothing of its own (tiktoken, GPT-2 files, ByteLevel).
    public func postProcessorFrame() throws -> (prefix: [TokenID], suffix: [TokenID])? {
        if let spm = sentencePiece { return spm.bosID.map { ([$0], []) } }
        guard let text = jsonParts?.postProcessor, !text.isEmpty, text != "null" else { return nil }
        let frame = try Tokenizer.frame(JSON.parse(Array(text.utf8)))
        return frame.prefix.isEmpty && frame.suffix.isEmpty ? nil : frame
    }

    /// The ids one tokenizer.json `post_processor` object adds before and after a single sequence.
    public static func frame(_ p: JSON) throws -> (prefix: [TokenID], suffix: [TokenID]) {
        func bad(_ what: String) -> TokenKitError { .badInput("post_processor: \(what)") }
        func id(_ pair: JSON?) throws -> TokenID {
            guard case .array(let a) = pair, a.count == 2, case .number(_, let i?) = a[1], i >= 0 else {
                throw bad("cls/sep must be [token, id]")
            }
            return TokenID(i)
        }
        switch p["type"]?.stringValue {
        case "TemplateProcessing":
            guard case .array(let items) = p["single"] else { throw bad("TemplateProcessing without a single template") }
            var prefix: [TokenID] = [], suffix: [TokenID] = [], seen = false
            for item in items {
                if item["Sequence"] != nil { seen = true; continue }
                guard let name = item["SpecialToken"]?["id"]?.stringValue,
                      case .array(let ids) = p["special_tokens"]?[name]?["ids"] else {
                    throw bad("template item \(item.serialized()) names no special token with ids")
                }
                for v in ids {
                    guard case .number(_, let i?) = v, i >= 0 else { throw bad("special token \(name) has a bad id") }
                    if seen { suffix.append(TokenID(i)) } else { prefix.append(TokenID(i)) }
                }
            }
            return (prefix, suffix)
        case "RobertaProcessing", "BertProcessing":
            return ([try id(p["cls"])], [try id(p["sep"])])
        case "Sequence":
            guard case .array(let list) = p["processors"] else { return ([], []) }
            var prefix: [TokenID] = [], suffix: [TokenID] = []
            for q in list {
                let f = try frame(q)
                // Each processor wraps what the ones before it made.
                prefix = f.prefix + prefix
                suffix += f.suffix
            }
            return (prefix, suffix)
        default:
            // ByteLevel only fixes offsets; nothing else adds ids to a single sequence.
            return ([], [])
        }
    }
}
