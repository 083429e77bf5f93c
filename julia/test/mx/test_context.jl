@testset "context" begin
    @test mx.cpu() == mx.Context(mx.CPU, 0)
    @test string(mx.gpu(1)) == "gpu(1)"
    @test mx.context(mx.zeros(2)) == mx.cpu(0)

    if !mx.has_feature("CUDA")
        @test mx.gpu_count() == 0
        # Asking for a GPU on a CPU build names the CUDA wheels instead of a C++ trace.
        err = try mx.zeros(2, 2; ctx = mx.gpu()); nothing catch e; e end
        @test err isa mx.MXError
        @test occursin("built without CUDA", err.msg)
        @test occursin("pip install --no-deps mxnet-cu112==1.9.1", err.msg)
        x = mx.Variable(:x)
        @test_throws mx.MXError mx.bind(x, mx.gpu(), [mx.zeros(2)])
    end
end
