# Devices: where arrays live and executors run.

# libmxnet's device type codes (Context::DeviceType).
@enum DeviceType CPU = 1 GPU = 2 CPU_PINNED = 3

"""A device: `cpu()`, `gpu(1)`. Written as libmxnet writes it, e.g. `cpu(0)`."""
struct Context
    device_type::DeviceType
    device_id::Int
end

cpu(device_id::Integer = 0) = Context(CPU, device_id)
gpu(device_id::Integer = 0) = Context(GPU, device_id)

function Base.show(io::IO, ctx::Context)
    kind = ctx.device_type == CPU ? "cpu" : ctx.device_type == GPU ? "gpu" : "cpu_pinned"
    print(io, kind, "(", ctx.device_id, ")")
end

"The number of GPUs libmxnet can use (always 0 on a build without CUDA)."
function gpu_count()
    n = Ref{Cint}(0)
    @mxcall(:MXGetGPUCount, (Ref{Cint},), n)
    return Int(n[])
end

"""
Throws a clear `MXError` for a GPU context on a libmxnet built without CUDA (libmxnet's own
message for this is a long C++ trace that does not say what to do).
"""
function check_available(ctx::Context)
    if ctx.device_type == GPU && !has_feature("CUDA")
        throw(MXError("$ctx was asked for, but this libmxnet was built without CUDA: install " *
                      "a CUDA build of the same version, e.g. " *
                      "`pip install --no-deps mxnet-cu112==1.9.1` (mxnet-cu1xx, matching your " *
                      "CUDA), or use cpu()"))
    end
    return ctx
end
