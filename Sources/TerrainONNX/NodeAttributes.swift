import Foundation

/// A node's attributes by name, read with their ONNX types checked.
struct NodeAttributes {
    private var byName: [String: Onnx_AttributeProto] = [:]

    init(_ attributes: [Onnx_AttributeProto]) {
        for a in attributes { byName[a.name] = a }
    }

    var names: Set<String> { Set(byName.keys) }

    func int(_ name: String) throws -> Int? {
        guard let a = byName[name] else { return nil }
        guard a.type == .int || (a.type == .undefined && a.hasI) else { throw OperatorFailure("attribute \(name) should be an integer") }
        guard let v = Int(exactly: a.i) else { throw OperatorFailure("attribute \(name) is out of range") }
        return v
    }

    func int(_ name: String, default value: Int) throws -> Int { try int(name) ?? value }

    func ints(_ name: String) throws -> [Int]? {
        guard let a = byName[name] else { return nil }
        guard a.type == .ints || (a.type == .undefined && !a.ints.isEmpty) else { throw OperatorFailure("attribute \(name) should be a list of integers") }
        return a.ints.map { Int($0) }
    }

    func float(_ name: String) throws -> Double? {
        guard let a = byName[name] else { return nil }
        guard a.type == .float || (a.type == .undefined && a.hasF) else { throw OperatorFailure("attribute \(name) should be a number") }
        return Double(a.f)
    }

    func float(_ name: String, default value: Double) throws -> Double { try float(name) ?? value }

    func floats(_ name: String) throws -> [Double]? {
        guard let a = byName[name] else { return nil }
        guard a.type == .floats else { throw OperatorFailure("attribute \(name) should be a list of numbers") }
        return a.floats.map { Double($0) }
    }

    func string(_ name: String) throws -> String? {
        guard let a = byName[name] else { return nil }
        guard a.type == .string || (a.type == .undefined && a.hasS) else { throw OperatorFailure("attribute \(name) should be a string") }
        return String(decoding: a.s, as: UTF8.self)
    }

    func tensor(_ name: String) throws -> Onnx_TensorProto? {
        guard let a = byName[name] else { return nil }
        guard a.type == .tensor || (a.type == .undefined && a.hasT) else { throw OperatorFailure("attribute \(name) should be a tensor") }
        return a.t
    }
}
