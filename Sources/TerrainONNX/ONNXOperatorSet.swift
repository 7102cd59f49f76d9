import TerrainTensor

/// The ONNX operators Terrain evaluates, and how each node's attributes become a `GraphOperator`.
///
/// Operator-set differences that matter are honoured: Softmax and LogSoftmax coerce to a matrix
/// before set 13; Unsqueeze and Squeeze take their axes from an attribute before 13 and from an
/// input after; Reshape's allowzero (14); Shape's start and end (15); Slice's bounds are attributes
/// before 10; Split's sizes an attribute before 13, an input after, and `num_outputs` from 18 on;
/// Clip's bounds and Pad's pads and fill value are attributes before 11 and inputs after;
/// ReduceSum's axes an attribute before 13 and ReduceMean's before 18, inputs after; Pad's axes (18).
public enum ONNXOperatorSet {
    /// The versions of the default domain (ai.onnx) Terrain reads.
    public static let versions: ClosedRange<Int64> = 7...23

    /// Operator types Terrain evaluates (forward, backward and tangents).
    public static let supported: Set<String> = [
        "Add", "Sub", "Mul", "Div", "Gemm", "MatMul", "Conv", "BatchNormalization",
        "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Erf", "Gelu", "Softmax", "LogSoftmax",
        "MaxPool", "AveragePool", "GlobalAveragePool", "Flatten", "Reshape", "Transpose", "Concat",
        "Identity", "Dropout", "Constant", "Shape", "Gather", "Unsqueeze", "Squeeze", "Cast",
        "LayerNormalization", "Where", "Equal", "Expand", "Slice", "Split", "Range", "ConstantOfShape", "Trilu",
        "Neg", "Sqrt", "Reciprocal", "Pow", "Mod", "ReduceMean", "ReduceSum",
        "Clip", "HardSigmoid", "HardSwish", "Softplus", "Pad",
    ]

    /// The inputs through which an operator passes gradients (nil: all of them). The others
    /// (shapes, indices, conditions, exponents) are read as constants; a parameter that reaches
    /// the output only through such inputs is a constant (`ParameterRoles.constantInitializers`).
    static func gradientInputs(_ opType: String) -> Set<Int>? {
        switch opType {
        case "Shape", "Equal", "Range", "ConstantOfShape", "Mod": []
        case "Gather", "Slice", "Split", "Reshape", "Expand", "Unsqueeze", "Squeeze", "Trilu", "Pow", "Cast",
             "ReduceMean", "ReduceSum": [0]
        case "Where": [1, 2]
        case "Pad": [0, 2]
        default: nil
        }
    }

    /// The operator of one node, its attributes checked.
    static func make(_ node: Onnx_NodeProto, opset: Int64) throws -> GraphOperator {
        let a = NodeAttributes(node.attribute)
        switch node.opType {
        case "Add": return BinaryOperator(operation: .add)
        case "Sub": return BinaryOperator(operation: .subtract)
        case "Mul": return BinaryOperator(operation: .multiply)
        case "Div": return BinaryOperator(operation: .divide)
        case "Gemm":
            return MatrixProductOperator(transposeA: try a.int("transA", default: 0) != 0, transposeB: try a.int("transB", default: 0) != 0,
                                         alpha: try a.float("alpha", default: 1), beta: try a.float("beta", default: 1))
        case "MatMul": return MatrixProductOperator(isMatMul: true)
        case "Conv": return ConvolutionOperator(geometry: try windowGeometry(a, isConvolution: true))
        case "BatchNormalization":
            if try a.int("training_mode", default: 0) != 0 || node.output.filter({ !$0.isEmpty }).count > 1 {
                throw OperatorFailure("training-mode batch normalization (batch statistics) is not supported: export the model in evaluation mode")
            }
            return BatchNormalizationOperator(epsilon: try a.float("epsilon", default: 1e-5))
        case "Relu": return ActivationOperator(kind: .relu)
        case "LeakyRelu": return ActivationOperator(kind: .leakyRelu(slope: try a.float("alpha", default: 0.01)))
        case "Sigmoid": return ActivationOperator(kind: .sigmoid)
        case "Tanh": return ActivationOperator(kind: .tanh)
        case "Erf": return ActivationOperator(kind: .erf)
        case "HardSigmoid":
            return ActivationOperator(kind: .hardSigmoid(alpha: try a.float("alpha", default: 0.2), beta: try a.float("beta", default: 0.5)))
        case "HardSwish": return ActivationOperator(kind: .hardSwish)
        case "Softplus": return ActivationOperator(kind: .softplus)
        case "Clip":
            guard opset < 11 else { return ClipOperator() }
            return ClipOperator(attributeBounds: (try a.float("min", default: -.infinity), try a.float("max", default: .infinity)))
        case "Pad":
            let name = try a.string("mode") ?? "constant"
            guard let mode = PadOperator.Mode(rawValue: name) else { throw OperatorFailure("mode \(name) is not supported (constant, reflect and edge are)") }
            guard opset < 11 else { return PadOperator(mode: mode) }
            guard let pads = try a.ints("pads") else { throw OperatorFailure("the pads attribute is missing") }
            return PadOperator(mode: mode, attributePads: pads, attributeValue: try a.float("value", default: 0))
        case "Gelu":
            switch try a.string("approximate") ?? "none" {
            case "none": return ActivationOperator(kind: .gelu)
            case "tanh": return ActivationOperator(kind: .geluTanh)
            case let other: throw OperatorFailure("approximate = \"\(other)\" is not a GELU (none and tanh are)")
            }
        case "Softmax", "LogSoftmax":
            return SoftmaxOperator(axis: try a.int("axis", default: opset >= 13 ? -1 : 1), logarithm: node.opType == "LogSoftmax",
                                   coercesToMatrix: opset < 13)
        case "MaxPool", "AveragePool":
            if try a.int("ceil_mode", default: 0) != 0 { throw OperatorFailure("ceil_mode = 1 is not supported") }
            if try a.int("storage_order", default: 0) != 0 { throw OperatorFailure("storage_order = 1 is not supported") }
            if node.output.filter({ !$0.isEmpty }).count > 1 { throw OperatorFailure("the indices output of MaxPool is not supported") }
            let geometry = try windowGeometry(a, isConvolution: false)
            let padded = geometry.padding != (0, 0) || geometry.paddingEnd != (0, 0)
            if node.opType == "AveragePool", padded, try a.int("count_include_pad", default: 0) == 0 {
                throw OperatorFailure("average pooling that leaves padding out of the divisor (count_include_pad = 0) is not supported")
            }
            return PoolingOperator(kind: node.opType == "MaxPool" ? .max : .average, geometry: geometry)
        case "GlobalAveragePool": return PoolingOperator(kind: .globalAverage)
        case "Flatten": return ReshapeOperator(kind: .flatten(axis: try a.int("axis", default: 1)))
        case "Reshape": return ReshapeOperator(kind: .reshape(allowZero: try a.int("allowzero", default: 0) != 0))
        case "Unsqueeze": return ReshapeOperator(kind: .unsqueeze(axes: opset >= 13 ? nil : try a.ints("axes") ?? []))
        case "Squeeze": return ReshapeOperator(kind: .squeeze(axes: opset >= 13 ? nil : try a.ints("axes")))
        case "Transpose": return TransposeOperator(permutation: try a.ints("perm"))
        case "Concat":
            guard let axis = try a.int("axis") else { throw OperatorFailure("the axis attribute is missing") }
            return ConcatOperator(axis: axis)
        // Dropout evaluates as the identity (inference form).
        case "Identity", "Dropout": return IdentityOperator()
        case "Cast":
            guard let to = try a.int("to") else { throw OperatorFailure("the to attribute is missing") }
            return try CastOperator(to: to)
        case "LayerNormalization":
            if node.output.dropFirst().contains(where: { !$0.isEmpty }) {
                throw OperatorFailure("the mean and inverse deviation outputs are not supported")
            }
            return LayerNormalizationOperator(axis: try a.int("axis", default: -1), epsilon: try a.float("epsilon", default: 1e-5))
        case "Where": return WhereOperator()
        case "Equal": return EqualOperator()
        case "Expand": return ExpandOperator()
        case "Trilu": return TriluOperator(upper: try a.int("upper", default: 1) != 0)
        case "Slice":
            guard opset < 10 else { return SliceOperator() }
            guard let starts = try a.ints("starts"), let ends = try a.ints("ends") else { throw OperatorFailure("starts and ends are missing") }
            return SliceOperator(attributes: (starts, ends, try a.ints("axes")))
        case "Range": return RangeOperator()
        case "ConstantOfShape":
            let value = try a.tensor("value").map { try DecodedTensor($0) } ?? .reals(shape: [1], values: [0])
            return ConstantOfShapeOperator(value: value)
        case "Mod": return ModOperator(truncated: try a.int("fmod", default: 0) != 0)
        case "Neg": return NegationOperator()
        case "Sqrt": return PowerOperator(exponent: 0.5)
        case "Reciprocal": return PowerOperator(exponent: -1)
        case "Pow": return PowerOperator(exponent: nil)
        case "ReduceMean", "ReduceSum":
            let axesAreInput = opset >= (node.opType == "ReduceSum" ? 13 : 18)
            return ReductionOperator(mean: node.opType == "ReduceMean", axesAttribute: axesAreInput ? nil : try a.ints("axes"),
                                     keepDimensions: try a.int("keepdims", default: 1) != 0,
                                     noOpWithoutAxes: try a.int("noop_with_empty_axes", default: 0) != 0)
        case "Constant": return ConstantOperator(value: try constantValue(a))
        case "Shape": return ShapeOperator(start: try a.int("start"), end: try a.int("end"))
        case "Gather": return GatherOperator(axis: try a.int("axis", default: 0))
        default:
            throw OperatorFailure("the operator is not supported")
        }
    }

    /// Kernel, strides, pads, dilations and groups of Conv, MaxPool and AveragePool (2-D only).
    private static func windowGeometry(_ a: NodeAttributes, isConvolution: Bool) throws -> Conv2dGeometry {
        guard let kernel = try a.ints("kernel_shape") else {
            throw OperatorFailure("the kernel_shape attribute is missing (Terrain needs it stated)")
        }
        guard kernel.count == 2 else { throw OperatorFailure("only 2-D windows are supported, kernel_shape is \(kernel)") }
        let strides = try a.ints("strides") ?? [1, 1]
        let dilations = try a.ints("dilations") ?? [1, 1]
        var pads = try a.ints("pads") ?? [0, 0, 0, 0]
        switch try a.string("auto_pad") ?? "NOTSET" {
        case "NOTSET", "": break
        case "VALID": pads = [0, 0, 0, 0]
        case let mode: throw OperatorFailure("auto_pad = \(mode) is not supported (state pads explicitly)")
        }
        guard strides.count == 2, dilations.count == 2, pads.count == 4 else {
            throw OperatorFailure("strides \(strides), dilations \(dilations) and pads \(pads) do not describe a 2-D window")
        }
        let groups = try a.int("group", default: 1)
        guard kernel.allSatisfy({ $0 >= 1 && $0 <= 1 << 12 }), strides.allSatisfy({ $0 >= 1 && $0 <= 1 << 12 }),
              dilations.allSatisfy({ $0 >= 1 && $0 <= 1 << 12 }), pads.allSatisfy({ $0 >= 0 && $0 <= 1 << 12 }),
              groups >= 1 else {
            throw OperatorFailure("invalid window: kernel \(kernel), strides \(strides), dilations \(dilations), pads \(pads), group \(groups)")
        }
        if !isConvolution {
            guard dilations == [1, 1] else { throw OperatorFailure("dilated pooling is not supported") }
            guard groups == 1 else { throw OperatorFailure("pooling has no groups") }
        }
        return Conv2dGeometry(kernel: (kernel[0], kernel[1]), stride: (strides[0], strides[1]), padding: (pads[0], pads[1]),
                              paddingEnd: (pads[2], pads[3]), dilation: (dilations[0], dilations[1]), groups: groups)
    }

    /// A Constant's value: `value` (a tensor) or one of the scalar and list forms.
    private static func constantValue(_ a: NodeAttributes) throws -> DecodedTensor {
        if let t = try a.tensor("value") { return try DecodedTensor(t) }
        if let f = try a.float("value_float") { return .reals(shape: [], values: [f]) }
        if let fs = try a.floats("value_floats") { return .reals(shape: [fs.count], values: fs) }
        if let i = try a.int("value_int") { return .integers(IntegerTensor(shape: [], values: [Int64(i)])) }
        if let is_ = try a.ints("value_ints") { return .integers(IntegerTensor(is_.map { Int64($0) })) }
        throw OperatorFailure("no value attribute (value, value_float(s), value_int(s)); sparse and string constants are not supported")
    }
}
