# Devices as the Python side names them.

"""
    as_context(ctx) -> mx.Context

A device from an `mx.Context` or from Python's `["cpu", 0]` / `["gpu", 1]` form; a UserError
for a device this libmxnet cannot use.
"""
function as_context(ctx::mx.Context)
    try
        return mx.check_available(ctx)
    catch e
        e isa mx.MXError || rethrow()
        throw(UserError(e.msg))   # already says what to install instead
    end
end

function as_context(device::AbstractVector)
    length(device) == 2 && device[1] in ("cpu", "gpu") && device[2] isa Integer ||
        throw(UserError("device $device is not valid: use [\"cpu\", 0] or [\"gpu\", n]"))
    return as_context(device[1] == "cpu" ? mx.cpu(device[2]) : mx.gpu(device[2]))
end
