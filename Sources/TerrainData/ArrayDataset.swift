import TerrainTensor
import TerrainIO

/// Turns NumPy arrays (from an NPZ archive or a folder of NPY files) into a dataset pair.
///
/// Keys are matched case-insensitively: `x_train`, `y_train`, `x_test`, `y_test` give a ready
/// split; `x` and `y` alone are split at random with the options' `testFraction` and `seed`.
///
/// Inputs: `uint8` arrays are scaled to `[0, 1]` (byte / 255), other types are taken as they
/// are. Shape `[N]` becomes `[N, 1]`; `[N, F]` is shaped by `FeatureLayout`; `[N, H, W]` becomes
/// single-channel images `[N, 1, H, W]`; `[N, H, W, C]` with C of 1, 3 or 4 and H not (the
/// Keras channels-last layout) is transposed to `[N, C, H, W]`; other shapes are kept.
///
/// Targets: integer or boolean arrays of shape `[N]` or `[N, 1]` are class labels (the class
/// count is the largest label of train and test plus one, checked by `ClassLabels`);
/// floating-point arrays are regression targets `[N, outputs]`. `TargetKind.regression` reads
/// integer arrays as values too, and `.classes` a floating-point column as labels.
enum ArrayDataset {
    static func make(from arrays: [String: NumpyArray], name: String, file: String,
                     options: DatasetOptions) throws -> DatasetPair
    {
        var byKey: [String: NumpyArray] = [:]
        for (key, array) in arrays { byKey[key.lowercased()] = array }

        if let xTrain = byKey["x_train"], let yTrain = byKey["y_train"],
           let xTest = byKey["x_test"], let yTest = byKey["y_test"]
        {
            let train = try part(inputs: xTrain, targets: yTrain, keys: ("x_train", "y_train"), name: name,
                                 file: file, options: options)
            let test = try part(inputs: xTest, targets: yTest, keys: ("x_test", "y_test"), name: name,
                                file: file, options: options)
            guard train.inputs.shape.dropFirst() == test.inputs.shape.dropFirst() else {
                throw DatasetError.mismatch(
                    dataset: name,
                    detail: "x_train samples have shape \(train.sampleShape) but x_test samples \(test.sampleShape)")
            }
            return try sharingClassCount(DatasetPair(train: train, test: test), name: name, file: file)
        }
        if let x = byKey["x"], let y = byKey["y"] {
            var all = try part(inputs: x, targets: y, keys: ("x", "y"), name: name, file: file, options: options)
            if case .classes(let labels, _) = all.targets {
                all.targets = .classes(labels, count: try ClassLabels.classCount(of: [(labels, "\(file) (y)")]))
            }
            return all.randomSplit(testFraction: options.testFraction,
                                   seed: SeedMixing.seed(options.seed, for: .split))
        }
        let found = arrays.keys.sorted().joined(separator: ", ")
        throw DatasetError.malformed(
            file: file,
            detail: "expected arrays x_train, y_train, x_test, y_test, or x and y; found \(found.isEmpty ? "none" : found)")
    }

    private static func part(inputs x: NumpyArray, targets y: NumpyArray, keys: (x: String, y: String),
                             name: String, file: String, options: DatasetOptions) throws -> Dataset
    {
        guard let count = x.shape.first else {
            throw DatasetError.malformed(file: file, detail: "'\(keys.x)' is a scalar, not an array of samples")
        }
        guard y.shape.first == count else {
            throw DatasetError.mismatch(
                dataset: name, detail: "'\(keys.x)' has \(count) samples but '\(keys.y)' has \(y.shape.first ?? 0)")
        }
        let inputs = try shapedInputs(x, key: keys.x, name: name, layout: options.featureLayout)
        let targets = try self.targets(from: y, key: keys.y, file: file, kind: options.targets)
        return Dataset(name: name, inputs: inputs, targets: targets)
    }

    private static func shapedInputs(_ array: NumpyArray, key: String, name: String,
                                     layout: FeatureLayout) throws -> Tensor<Float>
    {
        var values = array.floats()
        if array.dtype == .uint8 {
            for i in values.indices { values[i] /= 255 }
        }
        let shape = array.shape, count = shape[0]
        switch shape.count {
        case 1:
            return Tensor(shape: [count, 1], scalars: values)
        case 2:
            guard let sampleShape = layout.sampleShape(featureCount: shape[1]) else {
                throw DatasetError.mismatch(
                    dataset: name, detail: "the layout \(layout) does not hold the \(shape[1]) features of '\(key)'")
            }
            return Tensor(shape: [count] + sampleShape, scalars: values)
        case 3:
            return Tensor(shape: [count, 1, shape[1], shape[2]], scalars: values)
        case 4 where [1, 3, 4].contains(shape[3]) && ![1, 3, 4].contains(shape[1]):
            return channelsFirst(Tensor(shape: shape, scalars: values))
        default:
            return Tensor(shape: shape, scalars: values)
        }
    }

    /// `[N, H, W, C]` rearranged as `[N, C, H, W]`.
    private static func channelsFirst(_ tensor: Tensor<Float>) -> Tensor<Float> {
        let (n, h, w, c) = (tensor.shape[0], tensor.shape[1], tensor.shape[2], tensor.shape[3])
        var result = Tensor<Float>(uninitializedShape: [n, c, h, w])
        let source = tensor.pointer, destination = result.mutablePointer()
        for sample in 0..<n {
            for pixel in 0..<(h * w) {
                for channel in 0..<c {
                    destination[(sample * c + channel) * h * w + pixel] = source[(sample * h * w + pixel) * c + channel]
                }
            }
        }
        return result
    }

    private static func targets(from array: NumpyArray, key: String, file: String, kind: TargetKind) throws -> Targets {
        let count = array.shape[0]
        let isColumn = array.shape.count == 1 || (array.shape.count == 2 && array.shape[1] == 1)
        if kind == .classes, array.integers() == nil, isColumn {
            return try ClassLabels.targets(fromColumn: array.floats(), kind: .classes, file: "\(file) (\(key))")
        }
        guard kind != .regression, let integers = array.integers() else {
            let outputs = array.shape.dropFirst().reduce(1, *)
            return .values(Tensor(shape: [count, outputs], scalars: array.floats()))
        }
        guard array.shape.count == 1 || (array.shape.count == 2 && array.shape[1] == 1) else {
            throw DatasetError.malformed(
                file: file, detail: "integer targets '\(key)' have shape \(array.shape); class labels need [N] or [N, 1]")
        }
        if let bad = integers.firstIndex(where: { $0 < 0 || $0 >= Int64(ClassLabels.maximumClassCount) }) {
            throw DatasetError.malformed(
                file: file,
                detail: "'\(key)'[\(bad)] is \(integers[bad]); class labels must be in 0..<\(ClassLabels.maximumClassCount)")
        }
        let labels = integers.map { Int32($0) }
        return .classes(labels, count: Int(labels.max() ?? 0) + 1)
    }

    /// The pair with both parts' class counts set to the larger one, so that a test set
    /// missing the highest class still agrees with training on the number of outputs.
    private static func sharingClassCount(_ pair: DatasetPair, name: String, file: String) throws -> DatasetPair {
        switch (pair.train.targets, pair.test.targets) {
        case let (.classes(trainLabels, _), .classes(testLabels, _)):
            var result = pair
            let count = try ClassLabels.classCount(of: [(trainLabels, "\(file) (y_train)"), (testLabels, "\(file) (y_test)")])
            result.train.targets = .classes(trainLabels, count: count)
            result.test.targets = .classes(testLabels, count: count)
            return result
        case (.values(let train), .values(let test)):
            guard train.shape.dropFirst() == test.shape.dropFirst() else {
                throw DatasetError.mismatch(dataset: name, detail: "y_train has \(train.shape) but y_test \(test.shape)")
            }
            return pair
        default:
            throw DatasetError.mismatch(
                dataset: name, detail: "one of y_train and y_test holds class labels and the other real values")
        }
    }
}
