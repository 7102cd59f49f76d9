import Testing
import Foundation
import TerrainNN

private func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-12) -> Bool {
    abs(a - b) <= tolerance * max(1, abs(b))
}

@Suite("Learning-rate schedules")
struct ScheduleTests {
    @Test func constant() {
        #expect(LearningRateSchedule.constant.learningRate(base: 0.1, epoch: 0) == 0.1)
        #expect(LearningRateSchedule.constant.learningRate(base: 0.1, epoch: 123.4) == 0.1)
    }

    @Test(arguments: [(0, 0.1), (149, 0.1), (150, 0.01), (224, 0.01), (225, 0.001), (274, 0.001),
                      (275, 0.0001), (299, 0.0001)])
    func multiStepPaperSchedule(epoch: Int, expected: Double) {
        let schedule = LearningRateSchedule.multiStep(milestones: [150, 225, 275], gamma: 0.1)
        #expect(close(schedule.learningRate(base: 0.1, epoch: Double(epoch)), expected))
        // Within an epoch the rate does not change.
        #expect(close(schedule.learningRate(base: 0.1, epoch: Double(epoch) + 0.999), expected))
    }

    @Test func multiStepPerIteration() {
        let schedule = LearningRateSchedule.multiStep(milestones: [2], gamma: 0.5)
        #expect(schedule.learningRate(base: 1, epoch: 1, iteration: 99, iterationsPerEpoch: 100) == 1)
        #expect(schedule.learningRate(base: 1, epoch: 2, iteration: 0, iterationsPerEpoch: 100) == 0.5)
    }

    @Test func cosine() {
        let schedule = LearningRateSchedule.cosine(totalEpochs: 100, minimum: 0.001)
        #expect(schedule.learningRate(base: 0.1, epoch: 0) == 0.1)
        #expect(close(schedule.learningRate(base: 0.1, epoch: 50), (0.1 + 0.001) / 2))
        #expect(schedule.learningRate(base: 0.1, epoch: 100) == 0.001)
        #expect(schedule.learningRate(base: 0.1, epoch: 150) == 0.001, "clamped after T")
        #expect(close(schedule.learningRate(base: 0.1, epoch: 25),
                      0.001 + 0.099 * (1 + cos(Double.pi / 4)) / 2))
        // Continuous in t: fractional epochs fall strictly between their neighbours.
        let a = schedule.learningRate(base: 0.1, epoch: 10), b = schedule.learningRate(base: 0.1, epoch: 10.5),
            c = schedule.learningRate(base: 0.1, epoch: 11)
        #expect(a > b && b > c)
    }

    @Test func warmupRampThenInner() {
        let schedule = LearningRateSchedule.warmup(epochs: 2, then: .cosine(totalEpochs: 10, minimum: 0))
        #expect(schedule.learningRate(base: 0.2, epoch: 0) == 0)
        #expect(close(schedule.learningRate(base: 0.2, epoch: 0.5), 0.05))
        #expect(close(schedule.learningRate(base: 0.2, epoch: 1), 0.1))
        #expect(close(schedule.learningRate(base: 0.2, epoch: 1.99), 0.199))
        // From the end of warm-up on: the inner schedule at the same (unshifted) t.
        let inner = LearningRateSchedule.cosine(totalEpochs: 10, minimum: 0)
        for t in [2.0, 3.5, 10, 12] {
            #expect(schedule.learningRate(base: 0.2, epoch: t) == inner.learningRate(base: 0.2, epoch: t))
        }
        let stepped = LearningRateSchedule.warmup(epochs: 1, then: .multiStep(milestones: [3], gamma: 0.1))
        #expect(close(stepped.learningRate(base: 0.1, epoch: 0.25), 0.025))
        #expect(stepped.learningRate(base: 0.1, epoch: 1) == 0.1)
        #expect(close(stepped.learningRate(base: 0.1, epoch: 3), 0.01))
    }

    @Test func parseForms() throws {
        #expect(try LearningRateSchedule.parse("constant", totalEpochs: 300) == .constant)
        #expect(try LearningRateSchedule.parse("multistep:150,225,275", totalEpochs: 300)
                == .multiStep(milestones: [150, 225, 275], gamma: 0.1))
        #expect(try LearningRateSchedule.parse("multistep:150,225,275:0.2", totalEpochs: 300)
                == .multiStep(milestones: [150, 225, 275], gamma: 0.2))
        #expect(try LearningRateSchedule.parse("cosine", totalEpochs: 300) == .cosine(totalEpochs: 300, minimum: 0))
        #expect(try LearningRateSchedule.parse("cosine:1e-4", totalEpochs: 300) == .cosine(totalEpochs: 300, minimum: 1e-4))
        #expect(try LearningRateSchedule.parse("cosine:0:200", totalEpochs: 300) == .cosine(totalEpochs: 200, minimum: 0))
        #expect(try LearningRateSchedule.parse("warmup:2,cosine", totalEpochs: 300)
                == .warmup(epochs: 2, then: .cosine(totalEpochs: 300, minimum: 0)))
        #expect(try LearningRateSchedule.parse(" Warmup: 0.5, MultiStep:150,225 ", totalEpochs: 300)
                == .warmup(epochs: 0.5, then: .multiStep(milestones: [150, 225], gamma: 0.1)))
        #expect(try LearningRateSchedule.parse("warmup:5", totalEpochs: 300) == .warmup(epochs: 5, then: .constant))
    }

    @Test(arguments: [
        LearningRateSchedule.constant,
        .multiStep(milestones: [150, 225, 275], gamma: 0.1),
        .multiStep(milestones: [3], gamma: 0.5),
        .cosine(totalEpochs: 300, minimum: 0),
        .cosine(totalEpochs: 50, minimum: 1e-5),
        .warmup(epochs: 2, then: .cosine(totalEpochs: 300, minimum: 0)),
        .warmup(epochs: 0.25, then: .multiStep(milestones: [150, 225], gamma: 0.1)),
        .warmup(epochs: 1, then: .constant),
    ])
    func descriptionRoundTrips(schedule: LearningRateSchedule) throws {
        // `description` spells everything out, so the total epochs given here do not matter.
        #expect(try LearningRateSchedule.parse(schedule.description, totalEpochs: 7) == schedule)
        let json = try JSONEncoder().encode(schedule)
        #expect(try JSONDecoder().decode(LearningRateSchedule.self, from: json) == schedule)
    }

    @Test func descriptions() {
        #expect(LearningRateSchedule.multiStep(milestones: [150, 225, 275], gamma: 0.1).description == "multistep:150,225,275:0.1")
        #expect(LearningRateSchedule.warmup(epochs: 2, then: .cosine(totalEpochs: 300, minimum: 0)).description
                == "warmup:2,cosine:0:300")
    }

    @Test(arguments: [
        "", "linear", "constant:1", "multistep", "multistep:", "multistep:150,abc", "multistep:225,150",
        "multistep:150,150", "multistep:-1", "multistep:150:0", "multistep:150:x", "multistep:1:0.1:2",
        "cosine:-1", "cosine:abc", "cosine:0:0", "cosine:0:10:3", "warmup", "warmup:", "warmup:0,cosine",
        "warmup:x,cosine", "warmup:2,", "warmup:2,bogus",
    ])
    func parseErrors(text: String) {
        #expect(throws: LearningRateSchedule.ParseError.self) {
            try LearningRateSchedule.parse(text, totalEpochs: 300)
        }
    }

    @Test func parseErrorMessages() {
        #expect(throws: LearningRateSchedule.ParseError.self) { try LearningRateSchedule.parse("cosine", totalEpochs: 0) }
        do {
            _ = try LearningRateSchedule.parse("warmup:2,multistep:150,oops", totalEpochs: 300)
            Issue.record("expected an error")
        } catch {
            let message = String(describing: error)
            #expect(message.contains("warmup:2,multistep:150,oops"))
            #expect(message.contains("oops"))
            #expect(message.contains("multistep:M1,M2"))
        }
    }
}

@Suite("Schedule discontinuities")
struct ScheduleDiscontinuityTests {
    @Test func onlyStepSchedulesJump() throws {
        #expect(try LearningRateSchedule.parse("multistep:150,225,275", totalEpochs: 300).discontinuities == [150, 225, 275])
        #expect(try LearningRateSchedule.parse("cosine", totalEpochs: 10).discontinuities.isEmpty)
        #expect(try LearningRateSchedule.parse("constant", totalEpochs: 10).discontinuities.isEmpty)
        #expect(try LearningRateSchedule.parse("warmup:2,multistep:1,5", totalEpochs: 10).discontinuities == [5])
    }
}
