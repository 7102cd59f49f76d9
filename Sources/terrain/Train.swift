import ArgumentParser
import Foundation
import TerrainData
import TerrainModels
import TerrainTraining
import TerrainIO
import TerrainNN

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a zoo model, writing checkpoints (safetensors) and metrics into a run folder.",
        discussion: """
        Example (the paper's recipe, shortened):
          terrain train --model resnet20 --dataset fashion-mnist --epochs 1 --batch-size 128 \\
            --optimizer sgd --lr 0.1 --momentum 0.9 --nesterov --weight-decay 5e-4 --out runs/resnet20

        A GPT-style recipe (AdamW with β2 0.95, no decay on biases and norms, 100 warm-up steps then
        cosine to 6e-5, gradients clipped to norm 1):
          terrain train ... --optimizer adamw --lr 6e-4 --betas 0.9,0.95 --weight-decay 0.1 \\
            --decay-scope weights --schedule warmup-cosine:100:6e-5 --clip-norm 1

        Schedules: constant | multistep:150,225,275[:0.1] | cosine[:min] | warmup:EPOCHS,<schedule>
                   | warmup-cosine:STEPS[:MIN[:START]] (per optimizer step)
        A stopped run continues from its last completed epoch with the same command line plus --resume.
        """)

    @Option(help: "Architecture (see `terrain models`).") var model: String = "cnn"
    @Option(help: "Width multiplier for channels and hidden sizes.") var width: Double = 1
    @Option(help: "MLP hidden sizes, comma-separated (e.g. 64,64,64).") var hidden: String?
    @Option(help: "MLP activation: relu, tanh, sigmoid, gelu, leaky-relu.") var activation: String?
    @Option(help: "Transformer blocks of a gpt or vit (default 2).") var layers: Int?
    @Option(help: "Attention heads of a gpt or vit (default 4; they divide --embed).") var heads: Int?
    @Option(help: "Embedding width of a gpt or vit (default 64).") var embed: Int?
    @Option(help: "Patch side in pixels of a vit (default 4; it divides the images' sides).") var patch: Int?
    @Option(help: "Dataset name (fashion-mnist, mnist, digits, cifar10, fortunes, parabola, spirals, blobs) or path (IDX folder, CIFAR folder, CSV, NPZ; a text file with --context). Default: fashion-mnist, and fortunes for gpt.")
    var dataset: String?
    @Option(help: "Token sequences: the context T of windows cut from a text corpus (read as bytes; default \(TokenSequences.defaultContext) for fortunes), or the length of NPZ token sequences.")
    var context: Int?
    @Option(help: "Epochs to train.") var epochs: Int = 10
    @Option(help: "Mini-batch size.") var batchSize: Int = 128
    @Option(help: "Optimizer: sgd, adam, adamw.") var optimizer: String = "sgd"
    @Option(help: "Base learning rate (default 0.1 for sgd, 1e-3 for adam and adamw, PyTorch's default for Adam).") var lr: Double?
    @Option(help: "SGD momentum.") var momentum: Double = 0.9
    @Flag(help: "Nesterov momentum.") var nesterov = false
    @Option(help: "Weight decay (L2 for sgd/adam, decoupled for adamw; default 5e-4 for sgd, the paper's, and for adam, whose L2 term is SGD's so its runs keep their results; 0.01 for adamw, PyTorch's AdamW default).") var weightDecay: Double?
    @Option(help: ArgumentHelp("Which parameters weight decay applies to: all, or weights (not biases nor normalization scales and shifts, as GPT training does).",
                               valueName: "scope"))
    var decayScope: WeightDecayScope = .all
    @Option(help: ArgumentHelp("Adam's β1,β2 (adam, adamw; default 0.9,0.999).", valueName: "b1,b2")) var betas: String?
    @Option(help: "Adam's ε (adam, adamw; default 1e-8).") var eps: Double?
    @Option(help: "Clip the gradients' global L2 norm to this before each step (torch.nn.utils.clip_grad_norm_).") var clipNorm: Double?
    @Option(help: "Clamp every gradient element to ±this before each step (torch.nn.utils.clip_grad_value_).") var clipValue: Double?
    @Option(help: "Learning-rate schedule.") var schedule: String = "constant"
    @Option(help: "Train with SAM (sharpness-aware minimization) of this radius ρ.") var sam: Double?
    @Option(help: "Average weights (SWA) from this epoch (1-based) to the end; writes swa.safetensors.") var swaStart: Int?
    @Option(help: "Checkpoint every N epochs (0: only the last).") var saveEvery: Int = 1
    @Option(help: "Also checkpoint every N iterations (0: never): the trajectory.") var saveEveryIterations: Int = 0
    @Option(help: "Seed of the data order.") var seed: UInt64 = 0
    @Option(help: "Seed of the initial weights.") var modelSeed: UInt64 = 0
    @Option(help: "Train on a fixed random subset of this many samples.") var trainSubset: Int?
    @Option(help: "Evaluate on a fixed random subset of this many test samples.") var testSubset: Int?
    @Flag(help: "Do not standardize inputs per channel.") var noNormalize = false
    @Option(help: ArgumentHelp("What a CSV's last column holds: classes (whole-number labels 0, 1, …), regression (real values) or auto (labels when most values are whole numbers, and then every one must be a valid label).",
                               valueName: "kind"))
    var targets: TargetKind = .automatic
    @Flag(help: "Continue the stopped run in --out from its last completed epoch (the same options as when it started).") var resume = false
    @Flag(help: "No progress bar.") var quiet = false
    @Option(help: "Run folder (created).") var out: String = "runs/run"
    @OptionGroup var compute: ComputeOptions

    /// The request as a training configuration: every option checked (`TrainingConfig.validate`).
    func configuration() throws -> TrainingConfig {
        guard let kind = OptimizerKind(rawValue: optimizer.lowercased()) else {
            throw ValidationError("unknown optimizer '\(optimizer)' (sgd, adam, adamw)")
        }
        let hiddenSizes = try hidden.map { text in
            try text.split(separator: ",").map { part -> Int in
                guard let v = Int(part.trimmingCharacters(in: .whitespaces)), v > 0 else {
                    throw ValidationError("--hidden takes positive integers separated by commas, got '\(text)'")
                }
                return v
            }
        }
        var config = TrainingConfig(
            model: ModelSpec(architecture: model, width: width, hiddenSizes: hiddenSizes, activation: activation,
                             inputShape: [], outputs: 0, seed: modelSeed, layers: layers, heads: heads, embed: embed, patch: patch),
            dataset: dataset ?? Self.defaultDataset(for: model))
        config.epochs = epochs
        config.batchSize = batchSize
        config.optimizer = kind
        // Adam's steps are about the learning rate in size whatever the gradient's scale, so SGD's
        // 0.1 would throw its weights far: each optimizer gets the rate it is usually run with.
        config.learningRate = lr ?? (kind == .sgd ? 0.1 : 1e-3)
        config.momentum = momentum
        config.nesterov = nesterov
        // AdamW's decay is decoupled, p ← p − η·λ·p: with Adam's small rates the paper's 5e-4
        // (an L2 term for SGD and Adam) would hardly decay, so adamw gets PyTorch's default.
        config.weightDecay = weightDecay ?? (kind == .adamw ? 0.01 : 5e-4)
        config.decayScope = decayScope == .all ? nil : decayScope
        if betas != nil || eps != nil {
            guard kind != .sgd else { throw ValidationError("--betas and --eps set Adam's moments: they need --optimizer adam or adamw") }
        }
        if let betas {
            let parts = betas.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 2, let b1 = parts[0], let b2 = parts[1] else {
                throw ValidationError("--betas takes two numbers separated by a comma (e.g. 0.9,0.95), got '\(betas)'")
            }
            config.betas = [b1, b2]
        }
        config.epsilon = eps
        config.clipNorm = clipNorm
        config.clipValue = clipValue
        config.schedule = schedule
        config.samRadius = sam
        config.swaStart = swaStart.map { $0 &- 1 }
        config.saveEveryEpochs = saveEvery
        config.saveEveryIterations = saveEveryIterations
        config.seed = seed
        config.trainSubset = trainSubset
        config.testSubset = testSubset
        config.normalize = !noNormalize
        config.targets = targets == .automatic ? nil : targets
        config.context = context
        if let context { try OptionCheck.count(context, "--context", in: 1...TokenSequences.maximumContext) }
        do { try config.validate() } catch { throw ValidationError("\(error)") }
        return config
    }

    /// The data set a model trains on when `--dataset` is not given: the text corpus for a
    /// language model, Fashion-MNIST for the rest.
    static func defaultDataset(for architecture: String) -> String {
        architecture.lowercased() == "gpt" ? "fortunes" : "fashion-mnist"
    }

    func validate() throws {
        try compute.validate()
        _ = try configuration()
        do { try OutputPath.checkFolder(out) } catch { throw ValidationError("--out: \(error)") }
    }

    func run() throws {
        try compute.apply()
        try failing {
            try runTraining(try configuration(), folder: URL(fileURLWithPath: out), quiet: quiet, resume: resume)
        }
    }
}

/// Loads the data, trains, and prints one summary line per epoch and where the files went.
func runTraining(_ config: TrainingConfig, folder: URL, quiet: Bool, resume: Bool = false) throws {
    var options = DatasetOptions()
    options.normalize = config.normalize
    options.trainSubset = config.trainSubset
    options.testSubset = config.testSubset
    options.seed = config.seed
    options.targets = config.targets ?? .automatic
    options.context = config.context
    let start = Date()
    let data = try DatasetCatalog.load(config.dataset, options: options)
    if let note = data.note { print("data: \(note)") }
    print("data: \(config.dataset): \(data.train.count) training and \(data.test.count) test samples shaped \(data.train.sampleShape), \(describeTask(data.train)), loaded in \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
    let trainer = try Trainer(config: config, folder: folder)
    trainer.showProgress = !quiet
    trainer.onEpoch = { s in
        var line = String(format: "epoch %d  lr %.4g  train loss %.4f", s.epoch, s.learningRate, s.train.loss)
        if let a = s.train.accuracy { line += String(format: " acc %.2f%%", a) }
        if let p = s.train.perplexity { line += String(format: " ppl %.3f", p) }
        line += String(format: "  test loss %.4f", s.test.loss)
        if let a = s.test.accuracy { line += String(format: " acc %.2f%%", a) }
        if let p = s.test.perplexity { line += String(format: " ppl %.3f", p) }
        line += String(format: "  |θ| %.2f  %.0f s  ", s.weightNorm, s.seconds)
            + Throughput.label(samplesPerSecond: s.imagesPerSecond, targets: data.train.targets)
        print(line)
    }
    trainer.onResume = { done in print("resuming \(folder.path)/ after epoch \(done) of \(config.epochs)") }
    try trainer.run(data: data, resume: resume)
    print("run written to \(folder.path)/ (final.safetensors, checkpoints/, metrics.csv, iterations.csv, run.json)")
}

/// What the targets make of the task, for the data line: the CSV reader's choice made visible.
func describeTask(_ data: Dataset) -> String {
    switch data.targets {
    case .classes(_, let count): "classification into \(count) classes"
    case .values: "regression of \(data.outputCount) value\(data.outputCount == 1 ? "" : "s")"
    case .tokens(_, let length, let vocabulary): "next-token prediction over \(length) positions, vocabulary \(vocabulary)"
    }
}

extension TargetKind: ExpressibleByArgument {}
extension WeightDecayScope: ExpressibleByArgument {}
