import Foundation
import CDNNL
import TerrainTensor

/// Whether this process can run bf16 products at the speed they are asked for: the CPU has bf16
/// instructions (AVX-512 BF16 or AMX-BF16, as the kernel reports them in /proc/cpuinfo, which
/// leaves out what the operating system does not enable), and oneDNN has a bf16 kernel for a
/// convolution here rather than its reference C loops (`ONEDNN_MAX_CPU_ISA` may have capped it).
///
/// `TERRAIN_DISABLE_BF16=1` in the environment forbids bf16 whatever the CPU: for users who want
/// no run to use it, and for the tests of the refusal on CPUs that have it.
///
/// AMX needs the kernel's permission for its tile state (`arch_prctl(ARCH_REQ_XCOMP_PERM)`);
/// oneDNN 2.6 asks for it itself the first time it sets up an AMX kernel, so Terrain does not.
enum BFloat16Support {
    /// Nil where bf16 runs; otherwise why not, as a sentence for the user.
    static let unavailableReason: String? = {
        if let flag = getenv("TERRAIN_DISABLE_BF16"), String(cString: flag) != "", String(cString: flag) != "0" {
            return "bf16 is disabled by TERRAIN_DISABLE_BF16 in the environment"
        }
        guard cpuHasBFloat16Instructions else {
            return "this CPU has no bf16 instructions (AVX-512 BF16 or AMX-BF16)"
        }
        guard let implementation = convolutionImplementation else {
            return "oneDNN has no bf16 convolution on this CPU" + cappedInstructionSet
        }
        guard !implementation.hasPrefix("ref") else {
            return "oneDNN offers only its reference bf16 kernels here (\(implementation))" + cappedInstructionSet
        }
        return nil
    }()

    /// What a user should know before a long bf16 run where bf16 runs without AMX (oneDNN's bf16
    /// convolution is an AVX-512 BF16 kernel): such a core retires a bf16 dot product of 2×16
    /// pairs no faster than 2 fp32 FMAs of 16 lanes on some CPUs (a Xeon whose hypervisor hides
    /// AMX measured bf16 at 0.48x fp32 on one thread, 0.57x on two), so bf16 may gain nothing. Nil where AMX runs them, or
    /// where bf16 does not run at all.
    static let speedCaveat: String? = {
        guard unavailableReason == nil, let implementation = convolutionImplementation, !implementation.contains("amx") else { return nil }
        return "bf16 runs here on AVX-512 BF16 without AMX (oneDNN's \(implementation)), which on some CPUs computes "
            + "no faster than fp32, or slower: the run's bf16 check times both precisions"
    }()

    /// ", and ONEDNN_MAX_CPU_ISA=… caps its instruction set" where the environment does.
    private static var cappedInstructionSet: String {
        for name in ["ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"] {
            if let value = getenv(name) { return " (\(name)=\(String(cString: value)) caps its instruction set)" }
        }
        return ""
    }

    /// Whether the kernel lists avx512_bf16 or amx_bf16 among the CPU's flags.
    private static var cpuHasBFloat16Instructions: Bool {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return false }
        guard let flags = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return false }
        let names = Set(flags.split(whereSeparator: { $0 == " " || $0 == "\t" }))
        return names.contains("avx512_bf16") || names.contains("amx_bf16")
    }

    /// The name of the implementation oneDNN picks for a small bf16 3x3 convolution (e.g.
    /// "brgconv:avx512_core_amx_bf16"), nil where it has none. Asked once.
    private static let convolutionImplementation: String? = {
        guard let engine = OneDNN.engine,
              var src = OneDNNInferenceProgram.desc([16, 32, 8, 8], dnnl_format_tag_any, dnnl_bf16),
              var weights = OneDNNInferenceProgram.desc([32, 32, 3, 3], dnnl_format_tag_any, dnnl_bf16),
              var bias = OneDNNInferenceProgram.desc([32], dnnl_a),
              var dst = OneDNNInferenceProgram.desc([16, 32, 8, 8], dnnl_format_tag_any, dnnl_bf16) else { return nil }
        var cd = dnnl_convolution_desc_t()
        var pd: dnnl_primitive_desc_t?
        guard terrain_dnnl_convolution_desc(&cd, 0, &src, &weights, &bias, &dst, 1, 1, 1, 1, 1, 1) == dnnl_success,
              dnnl_primitive_desc_create(&pd, &cd, nil, engine, nil) == dnnl_success, let pd else { return nil }
        defer { dnnl_primitive_desc_destroy(pd) }
        return OneDNNInferenceProgram.implementationName(of: pd)
    }()
}
