# The devices a [compute] context names: "cpu", "gpu", "gpu:0,1", "cpu:0,1".

"""
    devices(context) -> Vector{mx.Context}

The devices `context` names, each one this libmxnet can run on (a UserError naming what to
install for one it cannot, such as a GPU with a CPU-only build).
"""
function devices(context::AbstractString)
    kind, _, ids = partition_context(context)
    numbers = isempty(ids) ? [0] : parse.(Int, split(ids, ","))
    allunique(numbers) ||
        throw(UserError("the context $context names a device twice: list each device number once"))
    make = kind == "gpu" ? mx.gpu : kind == "cpu" ? mx.cpu :
           throw(UserError("the context $context names no device: use cpu, gpu, gpu:0,1 or cpu:0,1"))
    return [available(make(id)) for id in numbers]
end

partition_context(context) = (parts = split(context, ":"; limit = 2); (parts[1], ":", length(parts) == 2 ? parts[2] : ""))

function available(ctx::mx.Context)
    try
        return mx.check_available(ctx)
    catch e
        e isa mx.MXError || rethrow()
        throw(UserError(e.msg))   # already says what to install instead
    end
end
