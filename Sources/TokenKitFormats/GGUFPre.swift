import TokenKitText

/// The pre-tokenizers that `tokenizer.ggml.pre` names in a byte-level BPE ("gpt2") GGUF file.
/// llama.cpp keeps each as a list of regexes applied one after the other (each splits the pieces
/// of the last, matches and gaps alike: a Split with "isolated" behaviour), then byte-level
/// encoding. Where llama.cpp rewrote a model's regex for its own engine, the model's original
/// tokenizer.json spelling is kept here, so the pieces are those of the reference library.
/// Characters outside ASCII are written as \x{…} escapes: a source editor's normalization
/// would turn some range ends (Greek with oxia, the Kelvin sign) into others.
struct GGUFPre: Sendable {
    let splits: [String]
    /// ByteLevel with GPT-2's own regex after the splits (HF's `use_regex`).
    var gpt2Regex = false
    /// Whole pieces found in the vocabulary are taken as they are (HF's `ignore_merges`).
    var ignoreMerges = false
    /// llama.cpp adds the BOS token by default for these.
    var addBOS = false

    static let gpt2Split = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"#
    static let bloom = #" ?[^(\s|.,!?\x{2026}\x{3002}\x{FF0C}\x{3001}\x{964}\x{6D4}\x{60C})]+"#
    static let deepseekLatin = #"\s?[A-Za-z\x{B5}\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{1BA}\x{1BC}-\x{1BF}\x{1C4}-\x{293}\x{295}-\x{2AF}\x{370}-\x{373}\x{376}\x{377}\x{37B}-\x{37D}\x{37F}\x{386}\x{388}-\x{38A}\x{38C}\x{38E}-\x{3A1}\x{3A3}-\x{3F5}\x{3F7}-\x{481}\x{48A}-\x{52F}\x{531}-\x{556}\x{10A0}-\x{10C5}\x{13A0}-\x{13F5}\x{13F8}-\x{13FD}\x{1C90}-\x{1CBA}\x{1CBD}-\x{1CBF}\x{1D00}-\x{1D2B}\x{1D6B}-\x{1D77}\x{1D79}-\x{1D9A}\x{1E00}-\x{1F15}\x{1F18}-\x{1F1D}\x{1F20}-\x{1F45}\x{1F48}-\x{1F4D}\x{1F50}-\x{1F57}\x{1F59}\x{1F5B}\x{1F5D}\x{1F5F}-\x{1F7D}\x{1F80}-\x{1FB4}\x{1FB6}-\x{1FBC}\x{1FBE}\x{1FC2}-\x{1FC4}\x{1FC6}-\x{1FCC}\x{1FD0}-\x{1FD3}\x{1FD6}-\x{1FDB}\x{1FE0}-\x{1FEC}\x{1FF2}-\x{1FF4}\x{1FF6}-\x{1FFC}\x{2102}\x{2107}\x{210A}-\x{2113}\x{2115}\x{2119}-\x{211D}\x{2124}\x{2126}\x{2128}\x{212A}-\x{212D}\x{212F}-\x{2134}\x{2139}\x{213C}-\x{213F}\x{2145}-\x{2149}\x{214E}\x{2183}\x{2184}\x{2C00}-\x{2C7B}\x{2C7E}-\x{2CE4}\x{2CEB}-\x{2CEE}\x{2CF2}\x{2CF3}\x{A640}-\x{A66D}\x{A680}-\x{A69B}\x{A722}-\x{A76F}\x{A771}-\x{A787}\x{A78B}-\x{A78E}\x{AB70}-\x{ABBF}\x{FB00}-\x{FB06}\x{FB13}-\x{FB17}\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A}\x{10400}-\x{1044F}\x{104B0}-\x{104D3}\x{104D8}-\x{104FB}\x{10C80}-\x{10CB2}\x{10CC0}-\x{10CF2}\x{118A0}-\x{118DF}\x{1E900}-\x{1E943}]+"#
    static let cjk = #"[\x{4E00}-\x{9FA5}\x{800}-\x{4E00}\x{AC00}-\x{D7FF}]+"#
    static let deepseekV3 = ##"[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"##
    static let qwen35 = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let tekken = BuiltinPattern.tekken.regex
    static let jais2 = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s{512}(?!\S)|\s{256}(?!\S)|\s{128}(?!\S)|\s{64}(?!\S)|\s{32}(?!\S)|\s{16}(?!\S)|\s{8}(?!\S)|\s{4}(?!\S)|\s{1,2}(?!\S)|\s{1}"#
    static let seedCoder = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1}| ?[^\s\p{L}\p{N}\r\n]+|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let bailing = #"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+"#
    static let exaoneMoE = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?(?:\p{L}\p{M}*(?: \p{L}\p{M}*)*)+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]?|\s*[\r\n]|\s+(?!\S)|\s+"#
    static let tinyAya = #"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let minicpm5 = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}+| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let ufakzeka = #"[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    static let llama3 = GGUFPre(splits: [BuiltinPattern.llama3.hfRegex], ignoreMerges: true, addBOS: true)
    static let gpt2 = GGUFPre(splits: [], gpt2Regex: true)
    static let starcoder = GGUFPre(splits: [#"\p{N}"#], gpt2Regex: true)
    static let qwen2 = GGUFPre(splits: [BuiltinPattern.qwen2.hfRegex])
    static let chatGLM = GGUFPre(splits: [BuiltinPattern.llama3.hfRegex])

    /// By `tokenizer.ggml.pre` (a missing key is llama.cpp's "default").
    static let byName: [String: GGUFPre] = {
        var t: [String: GGUFPre] = [:]
        func add(_ names: [String], _ p: GGUFPre) { for n in names { t[n] = p } }
        add(["default"], GGUFPre(splits: [#"[\p{P}\$\+<=>\^~\|]+"#, gpt2Split, #"\p{N}+"#, "[0-9][0-9][0-9]"]))
        add(["llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano"], llama3)
        add(["dbrx", "smaug-bpe", "chatglm-bpe"], chatGLM)
        add(["glm4", "glm5"], GGUFPre(splits: chatGLM.splits, ignoreMerges: true))
        add(["deepseek-llm"], GGUFPre(splits: [#"[\r\n]"#, deepseekLatin, #"\s?[!-/:-~\x{FF01}-\x{FF0F}\x{FF1A}-\x{FF5E}\x{2018}-\x{201F}\x{3000}-\x{3002}]+"#, #"\s+$"#, cjk, #"\p{N}+"#]))
        add(["deepseek-coder"], GGUFPre(splits: [#"[\r\n]"#, #"\s?\p{L}+"#, #"\s?\p{P}+"#, cjk, #"\p{N}"#]))
        add(["deepseek-v3", "hunyuan-dense", "joyai-llm", "hy_v4"], GGUFPre(splits: [#"\p{N}{1,3}"#, #"[\x{4E00}-\x{9FA5}\x{3040}-\x{309F}\x{30A0}-\x{30FF}]+"#, deepseekV3]))
        add(["falcon"], GGUFPre(splits: [#"[\p{P}\$\+<=>\^~\|`]+"#, gpt2Split, "[0-9][0-9][0-9]"]))
        add(["starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b", "mellum2"], starcoder)
        add(["gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum", "modern-bert",
             "mpt", "olmo", "jais", "trillion", "granite-docling", "exaone4", "jina-v1-en", "jina-v2-code", "roberta-bpe"], gpt2)
        add(["jais-2"], GGUFPre(splits: [jais2]))
        add(["qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "stablelm2", "hunyuan", "solar-open", "megrez", "grok-2"], qwen2)
        add(["qwen35"], GGUFPre(splits: [qwen35]))
        add(["poro-chat", "bloom", "gpt3-finnish"], GGUFPre(splits: [bloom]))
        add(["viking"], GGUFPre(splits: [bloom, #"\p{N}"#]))
        add(["tekken"], GGUFPre(splits: [tekken], ignoreMerges: true, addBOS: true))
        add(["gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2"], GGUFPre(splits: [BuiltinPattern.o200k.hfRegex]))
        add(["tiny_aya", "cohere2moe"], GGUFPre(splits: [#"\d{1,3}(?=(?:\d{3})*\b)"#, tinyAya]))
        add(["seed-coder"], GGUFPre(splits: [seedCoder]))
        add(["ufakzeka"], GGUFPre(splits: [ufakzeka]))
        add(["bailingmoe", "bailingmoe2", "llada-moe"], GGUFPre(splits: [bailing]))
        add(["exaone-moe"], GGUFPre(splits: [exaoneMoE]))
        add(["minicpm5"], GGUFPre(splits: [#"\p{N}{1,3}"#, minicpm5], ignoreMerges: true))
        add(["laguna"], GGUFPre(splits: [#"[^\n]+|[\n]+"#, BuiltinPattern.qwen2.hfRegex]))
        return t
    }()
}
