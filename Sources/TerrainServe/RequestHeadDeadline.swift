import HummingbirdCore
import Logging
import NIOCore

/// Closes a connection whose request head does not arrive in time: the first in the channel's
/// pipeline, it sees the raw bytes. A deadline starts when the connection opens and when the
/// first byte of a request arrives, and ends at the blank line that ends the head (CR LF CR LF).
/// A client that opens a connection and sends nothing, or half a header and then nothing (or a
/// byte a second), is disconnected `timeout` later, so a thousand of them cannot hold the
/// server's connections. (Hummingbird's own idle timeout only counts time between complete
/// requests; between a response and the next request's first byte it applies alone.)
///
/// Request bodies are not expected (the server answers GET and HEAD); a body's bytes count as
/// the start of the next head, so a slow body is cut off by the same deadline.
final class RequestHeadDeadline: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let timeout: TimeAmount
    private var deadline: Scheduled<Void>?
    /// How much of CR LF CR LF the bytes so far end with (0 to 3).
    private var matched = 0
    private var inHead = false

    init(timeout: TimeAmount) { self.timeout = timeout }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { disarm() }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        for byte in bytes.readableBytesView {
            if !inHead {
                inHead = true
                arm(context)
            }
            let expected: UInt8 = matched % 2 == 0 ? 13 : 10
            if byte == expected {
                matched += 1
            } else {
                matched = byte == 13 ? 1 : 0
            }
            if matched == 4 {
                matched = 0
                inHead = false
                disarm()
            }
        }
        context.fireChannelRead(data)
    }

    /// Starts the deadline unless one is running (a head's deadline counts from its first byte).
    private func arm(_ context: ChannelHandlerContext) {
        guard deadline == nil else { return }
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: timeout) {
            loopBound.value.close(promise: nil)
        }
    }

    private func disarm() {
        deadline?.cancel()
        deadline = nil
    }
}

/// Hummingbird's HTTP/1.1 child channel with `RequestHeadDeadline` in front of it.
struct DeadlineHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value
    let inner: HTTP1Channel
    let headTimeout: TimeAmount

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        do {
            try channel.pipeline.syncOperations.addHandler(RequestHeadDeadline(timeout: headTimeout), position: .first)
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return inner.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let nanoseconds = Double(seconds) * 1e9 + Double(attoseconds) * 1e-9
        self = .nanoseconds(Int64(max(0, min(nanoseconds, 9e18))))
    }
}
