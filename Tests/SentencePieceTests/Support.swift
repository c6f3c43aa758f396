import Foundation
import TokenKitCore
import TokenKitSentencePiece
@testable import TokenKitModels

/// The repository's Fixtures folder (tests never read outside the repository).
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Fixtures").path

func fixture(_ relative: String) -> String { fixtures + "/" + relative }

func readBytes(_ relative: String) throws -> [UInt8] {
    Array(try Data(contentsOf: URL(fileURLWithPath: fixture(relative))))
}

/// Fixtures/goldens/spm-<name>.json, made by Scripts/make_spm_goldens.py.
struct SPMGolden: Decodable {
    struct Case: Decodable {
        let name: String
        let text: String
        let ids: [UInt32]
        let decoded: String?
    }
    struct NBest: Decodable {
        let text: String
        let n: Int
        let ids: [[UInt32]]
    }
    struct Sampling: Decodable {
        let text: String
        let alpha: Double
        let nbest_size: Int
        let draws: Int
        let counts: [String: Int]
    }
    let model: String
    let library: String
    let cases: [Case]
    let nbest: [NBest]?
    let sampling: [Sampling]?

    static func load(_ name: String) throws -> SPMGolden {
        let data = try Data(contentsOf: URL(fileURLWithPath: fixture("goldens/spm-\(name).json")))
        return try JSONDecoder().decode(SPMGolden.self, from: data)
    }
}

/// Models loaded once per process.
final class SPMModels: @unchecked Sendable {
    static let shared = SPMModels()
    private var cache: [String: SentencePieceModel] = [:]
    private let lock = NSLock()

    func get(_ relative: String) throws -> SentencePieceModel {
        lock.lock()
        defer { lock.unlock() }
        if let m = cache[relative] { return m }
        let m = try SentencePieceModel.parse(try readBytes(relative))
        cache[relative] = m
        return m
    }
}

let goldenNames = ["llama2", "mistral-v1", "mistral-v3", "botchan-bpe", "botchan-unigram", "kyoto-unigram", "ties-unigram"]
