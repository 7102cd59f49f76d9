import Foundation
import Testing
import TerrainTensor
import TerrainIO

/// Entries of every dtype convert to `Float` and `Double` tensors by value.
@Suite struct DTypeConversionTests {
    private func floats(_ dtype: SafetensorsDType, _ bits: [UInt16]) throws -> [Float] {
        try SafetensorsEntry(name: "x", dtype: dtype, shape: [bits.count], data: littleEndianBytes(bits)).tensor(as: Float.self).scalars
    }

    @Test func f16BitPatternsConvertExactly() throws {
        let cases: [(UInt16, Float)] = [
            (0x3C00, 1.0), (0xBC00, -1.0), (0x4000, 2.0), (0xC100, -2.5), (0x3555, 0.333251953125),
            (0x7BFF, 65504), (0xFBFF, -65504), (0x0400, 0x1p-14),
            (0x0001, 0x1p-24), (0x03FF, 1023 * 0x1p-24), (0x8001, -0x1p-24), (0x0200, 0x1p-15),
            (0x7C00, .infinity), (0xFC00, -.infinity), (0x0000, 0),
        ]
        let converted = try floats(.f16, cases.map(\.0))
        for ((bits, expected), value) in zip(cases, converted) {
            #expect(value == expected, "F16 0x\(String(bits, radix: 16))")
        }
        let special = try floats(.f16, [0x8000, 0x7E00, 0xFE01])
        #expect(special[0] == 0 && special[0].sign == .minus)
        #expect(special[1].isNaN && special[2].isNaN && special[2].sign == .minus)
    }

    #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
    @Test func everyF16PatternAgreesWithTheStandardLibrary() throws {
        let all = (0...UInt16.max).map { $0 }
        let converted = try floats(.f16, all)
        for (bits, value) in zip(all, converted) {
            let reference = Float(Float16(bitPattern: bits))
            if reference.isNaN {
                #expect(value.isNaN && value.sign == reference.sign)
            } else if value.bitPattern != reference.bitPattern {
                Issue.record("F16 0x\(String(bits, radix: 16)): \(value) != \(reference)")
            }
        }
    }
    #endif

    @Test func bf16BitPatternsConvertExactly() throws {
        let cases: [(UInt16, Float)] = [
            (0x3F80, 1.0), (0xBF80, -1.0), (0x4049, 3.140625), (0xC2F7, -123.5),
            (0x7F7F, Float(bitPattern: 0x7F7F_0000)), (0x0001, Float(bitPattern: 0x0001_0000)),
            (0x0080, .leastNormalMagnitude), (0x7F80, .infinity), (0xFF80, -.infinity),
        ]
        let converted = try floats(.bf16, cases.map(\.0))
        for ((bits, expected), value) in zip(cases, converted) {
            #expect(value == expected, "BF16 0x\(String(bits, radix: 16))")
        }
        let special = try floats(.bf16, [0x7FC0, 0x8000])
        #expect(special[0].isNaN)
        #expect(special[1] == 0 && special[1].sign == .minus)
        let doubles = try SafetensorsEntry(name: "x", dtype: .bf16, shape: [1], data: littleEndianBytes([UInt16(0x4049)])).tensor(as: Double.self)
        #expect(doubles.scalars == [3.140625])
    }

    @Test func integerAndBooleanDTypesConvertByValue() throws {
        func values(_ dtype: SafetensorsDType, _ data: Data, count: Int) throws -> [Double] {
            try SafetensorsEntry(name: "x", dtype: dtype, shape: [count], data: data).tensor(as: Double.self).scalars
        }
        #expect(try values(.i64, littleEndianBytes([Int64(-3), 1 << 40, .min]), count: 3) == [-3, 0x1p40, -0x1p63])
        #expect(try values(.i32, littleEndianBytes([Int32(-7), .max]), count: 2) == [-7, 2_147_483_647])
        #expect(try values(.i16, littleEndianBytes([Int16.min, 300]), count: 2) == [-32768, 300])
        #expect(try values(.i8, Data([0x80, 0x7F, 0xFF]), count: 3) == [-128, 127, -1])
        #expect(try values(.u8, Data([0, 200, 255]), count: 3) == [0, 200, 255])
        #expect(try values(.bool, Data([0, 1, 2]), count: 3) == [0, 1, 1])
        let matrix = try SafetensorsEntry(name: "m", dtype: .i32, shape: [2, 2], data: littleEndianBytes([Int32(1), 2, 3, 4])).tensor(as: Float.self)
        #expect(matrix.shape == [2, 2] && matrix.scalars == [1, 2, 3, 4])
    }

    @Test func byteSizesMatchTheFormat() {
        let sizes = Dictionary(uniqueKeysWithValues: SafetensorsDType.allCases.map { ($0.rawValue, $0.byteSize) })
        #expect(sizes == ["F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1])
    }

    @Test func tensorEntriesUseTheScalarTypesDType() {
        #expect(SafetensorsEntry(name: "a", tensor: Tensor<Float>(zeros: [1])).dtype.rawValue == Float.dtypeName)
        #expect(SafetensorsEntry(name: "a", tensor: Tensor<Double>(zeros: [1])).dtype.rawValue == Double.dtypeName)
    }
}
