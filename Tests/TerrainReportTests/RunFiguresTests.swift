import Testing
import Foundation
import TerrainPlot
import TerrainReport
import TerrainTestSupport

@Suite("Run figures")
struct RunFiguresTests {
    /// A run folder in `Trainer`'s layout: 4 epochs of 10 steps, the rate dropped tenfold after
    /// epoch 2 (iteration 20); `test` false leaves the test columns empty, as a Recorder given no
    /// test metrics does.
    func run(in parent: TemporaryFolder, named name: String, test: Bool = true, accuracy: Bool = true,
             iterations: Bool = true) throws -> String {
        var metrics = "epoch,iteration,lr,train_loss,train_acc,test_loss,test_acc,weight_norm,seconds,images_per_s\n"
        for e in 1...4 {
            let loss = 2.0 / Double(e), lr = e <= 2 ? 0.1 : 0.01
            let acc = accuracy ? "\(50 + 10 * e)" : "", testAcc = accuracy && test ? "\(45 + 10 * e)" : ""
            metrics += "\(e),\(10 * e),\(lr),\(loss),\(acc),\(test ? "\(loss + 0.2)" : ""),\(testAcc),\(10 + Double(e)),0.5,100\n"
        }
        try parent.write(Data(metrics.utf8), to: "\(name)/metrics.csv")
        if iterations {
            var rows = "iteration,epoch,lr,loss,acc,weight_norm\n"
            for i in 1...40 { rows += "\(i),\((i - 1) / 10 + 1),\(i <= 20 ? 0.1 : 0.01),\(2.0 / Double(i)),50,\(10 + Double(i) / 10)\n" }
            try parent.write(Data(rows.utf8), to: "\(name)/iterations.csv")
        }
        let record = #"{"learning_rate_changes": [{"epoch": 2, "iteration": 20, "from": 0.1, "to": 0.01}], "checkpoints": []}"#
        try parent.write(Data(record.utf8), to: "\(name)/run.json")
        return parent.file(name)
    }

    @Test func readsTheLogsAndPlacesTheRateDrops() throws {
        let parent = try TemporaryFolder("run-log")
        let log = try RunLog(folder: try run(in: parent, named: "sgd", test: false))
        #expect(log.name == "sgd")
        let epochs = try #require(log.epochs)
        #expect(epochs.values("train_loss") == [2, 1, 2.0 / 3, 0.5])
        // Empty cells are not measured: the column is absent, not zero.
        #expect(epochs.values("test_loss") == nil && epochs.points(x: "epoch", y: "test_loss") == nil)
        #expect(log.iterations?.rows.count == 40)
        #expect(log.rateChanges == [RunLog.RateChange(epoch: 2, iteration: 20, from: 0.1, to: 0.01)])
        // 10 steps per epoch: the drop after 20 steps sits at 2 epochs done, and at iteration 20.
        #expect(log.stepsPerEpoch == 10 && log.rateDropEpochs == [2] && log.rateDropIterations == [20])
    }

    /// The Recorder writes the weight norm only at its checkpoint steps: the curve joins those.
    @Test func sparseColumnsJoinTheirPoints() {
        let table = RunLog.Table(columns: ["iteration", "weight_norm"], rows: [[1, .nan], [2, 3], [3, .nan], [4, 5]])
        let points = table.points(x: "iteration", y: "weight_norm")
        #expect(points?.x == [2, 4] && points?.y == [3, 5])
    }

    @Test func aFolderThatIsNotARunIsNamedWithWhatWasExpected() throws {
        let parent = try TemporaryFolder("run-log")
        try parent.write(Data("x".utf8), to: "other/notes.txt")
        #expect { try RunLog(folder: parent.file("other")) } throws: { error in
            "\(error)".contains("not a run folder: expected metrics.csv") && "\(error)".contains("run.json")
        }
        #expect { try RunLog(folder: parent.file("other/notes.txt")) } throws: { "\($0)".contains("not a run folder") }
        try parent.write(Data("epoch,train_loss\n1,0.5\n2\n".utf8), to: "bad/metrics.csv")
        #expect { try RunLog(folder: parent.file("bad")) } throws: { "\($0)".contains("line 3 has 1 cells for the header's 2 columns") }
        try parent.write(Data("epoch,train_loss\n1,abc\n".utf8), to: "word/metrics.csv")
        #expect { try RunLog(folder: parent.file("word")) } throws: { "\($0)".contains("line 2: 'abc' is not a number") }
    }

    @Test func oneRunsFigures() throws {
        let parent = try TemporaryFolder("run-figures")
        let full = RunFigures.figures(for: try RunLog(folder: try run(in: parent, named: "sgd")))
        #expect(full.figures.map(\.name) == ["sgd_loss", "sgd_accuracy", "sgd_weight_norm", "sgd_weight_norm_iterations"])
        #expect(full.notes.isEmpty)
        let loss = try #require(full.figures[0].figure.panels.first as? LineChart)
        #expect(loss.series.map(\.label) == ["train", "test"] && loss.series[1].dashed)
        #expect(loss.coloredMarkers.map(\.x) == [2] && loss.markerLegend == "learning-rate drop")
        let perIteration = try #require(full.figures[3].figure.panels.first as? LineChart)
        #expect(perIteration.coloredMarkers.map(\.x) == [20] && perIteration.series[0].x.count == 40)
        for named in full.figures { _ = try named.figure.render(scale: 1) }

        // A regression run without test metrics or iterations.csv: what is missing is noted.
        let bare = RunFigures.figures(for: try RunLog(folder: try run(in: parent, named: "bare", test: false, accuracy: false,
                                                                        iterations: false)))
        #expect(bare.figures.map(\.name) == ["bare_loss", "bare_weight_norm"])
        #expect(bare.notes.contains("bare: metrics.csv has no test_loss: loss per epoch drawn without it"))
        #expect(bare.notes.contains("bare: no iterations.csv: no per-iteration weight norm"))
        #expect(bare.notes.contains("bare: metrics.csv has no train_acc or test_acc: no accuracy per epoch"))
        #expect(bare.notes.count == 3)
        for named in bare.figures { _ = try named.figure.render(scale: 1) }
    }

    @Test func runsOverlaidNameEachRun() throws {
        let parent = try TemporaryFolder("run-figures")
        let runs = [try RunLog(folder: try run(in: parent, named: "sgd")), try RunLog(folder: try run(in: parent, named: "adam", test: false))]
        let result = RunFigures.comparison(runs)
        #expect(result.figures.map(\.name) == ["compare_loss", "compare_accuracy", "compare_weight_norm", "compare_weight_norm_iterations"])
        let loss = try #require(result.figures[0].figure.panels.first as? LineChart)
        // Each run named once; train solid, test dashed, as the title says.
        #expect(loss.series.map(\.label) == ["sgd", "", "adam"] && loss.title == "loss per epoch: train solid, test dashed")
        // Each run's drop in its own colour.
        #expect(loss.coloredMarkers.map(\.color) == [loss.series[0].color, loss.series[2].color])
        let norm = try #require(result.figures[2].figure.panels.first as? LineChart)
        #expect(norm.series.map(\.label) == ["sgd", "adam"])
        #expect(result.notes == ["adam: metrics.csv has no test_loss: loss per epoch drawn without it",
                                 "adam: metrics.csv has no test_acc: accuracy per epoch drawn without it"])
        for named in result.figures { _ = try named.figure.render(scale: 1) }
    }

    /// Two seeds of two optimizers: folders named alike are told apart by their parents.
    @Test func runsNamedAlikeAreToldApart() throws {
        let parent = try TemporaryFolder("run-figures")
        let a = try RunLog(folder: try run(in: parent, named: "sgd/seed1")), b = try RunLog(folder: try run(in: parent, named: "adam/seed1"))
        let c = try RunLog(folder: try run(in: parent, named: "adam/seed2"))
        #expect(RunFigures.distinctlyNamed([a, b, c]).map(\.name) == ["sgd-seed1", "adam-seed1", "seed2"])
        let names = RunFigures.distinctlyNamed([a, b]).map { RunFigures.figures(for: $0).figures[0].name }
        #expect(names == ["sgd-seed1_loss", "adam-seed1_loss"])
    }

    /// A run page (`terrain view RUN`, the server's /run/): the numbers, what each run was trained
    /// with (shared settings said once), and every figure as an SVG inside the page.
    @Test func aRunPageHoldsItsNumbersAndFigures() throws {
        let parent = try TemporaryFolder("run-page")
        let sgd = try run(in: parent, named: "sgd"), adam = try run(in: parent, named: "adam")
        for (folder, optimizer) in [(sgd, "sgd"), (adam, "adam")] {
            let record = #"{"config": {"optimizer": "\#(optimizer)", "learningRate": 0.1, "batchSize": 128, "dataset": "data/digits.csv.gz", "schedule": "constant"}, "model": {"architecture": "mlp"}, "learning_rate_changes": [{"epoch": 2, "iteration": 20, "from": 0.1, "to": 0.01}]}"#
            try Data(record.utf8).write(to: URL(fileURLWithPath: folder + "/run.json"))
        }
        let logs = [try RunLog(folder: sgd), try RunLog(folder: adam)]
        #expect(logs[0].settings.map(\.name) == ["model", "data", "optimizer", "learning rate", "batch size"])
        let one = try RunPage.html([logs[0]], title: "run <sgd>")
        #expect(one.contains("<title>run &lt;sgd&gt;</title>"))
        #expect(one.contains("model mlp · data digits.csv.gz · optimizer sgd · learning rate 0.1 · batch size 128"))
        // Last epoch: loss 0.5, accuracy 90; best test accuracy 85 at epoch 4.
        #expect(one.contains("<td>4</td><td>0.5</td><td>90.00</td><td>0.7</td><td>85.00</td><td>85.00 % at epoch 4</td>"))
        #expect(one.components(separatedBy: "data:image/svg+xml;base64,").count - 1 == 4)
        let both = try RunPage.html(logs, title: "runs")
        #expect(both.contains("<p>all runs: model mlp · data digits.csv.gz · learning rate 0.1 · batch size 128</p>"))
        #expect(both.contains("<td class=\"settings\">optimizer sgd</td>") && both.contains("<td class=\"settings\">optimizer adam</td>"))
        // Each figure decodes to an SVG document.
        let first = try #require(both.components(separatedBy: "data:image/svg+xml;base64,").dropFirst().first?.prefix { $0 != "\"" })
        let svg = String(decoding: try #require(Data(base64Encoded: String(first))), as: UTF8.self)
        #expect(svg.hasPrefix("<?xml") && svg.contains("<svg"))
        // One figure alone, as the server's thumbnails fetch it; nil for what the logs cannot draw.
        let png = try #require(try RunPage.figure("loss", of: [logs[0]], format: .png))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        try parent.write(Data("epoch,train_loss\n1,0.5\n".utf8), to: "bare/metrics.csv")
        #expect(try RunPage.figure("accuracy", of: [try RunLog(folder: parent.file("bare"))], format: .svg) == nil)
    }
}
