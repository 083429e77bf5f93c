@testset "cached op and profiler" begin
    # y = W'x .+ b, then relu: two operators, one graph.
    x_val = Float32[0.5 -1 2; 1 0 -0.5]
    w_val = Float32[1 -2 0.5 3; 2 1 -1 0.25]
    b_val = Float32[0.1, -0.2, 0.3, 0]
    graph = mx.Activation(mx.FullyConnected(mx.Variable(:x); num_hidden = 4, name = :fc); act_type = :relu,
                          name = :relu)
    inputs = Dict(:x => mx.NDArray(x_val), :fc_weight => mx.NDArray(w_val), :fc_bias => mx.NDArray(b_val))

    @testset "runs the graph into the arrays it is given, again and again" begin
        op = mx.CachedOp(graph)
        @test op.arguments == [:x, :fc_weight, :fc_bias]
        in_handles = mx.handles([inputs[name] for name in op.arguments])
        out = mx.zeros(4, 3)
        mx.invoke!(op, in_handles, mx.handles([out]))
        @test copy(out) ≈ max.(w_val' * x_val .+ b_val, 0)
        copy!(inputs[:x], -x_val)   # the same arrays, new values: the next call sees them
        other = mx.zeros(4, 3)
        mx.invoke!(op, in_handles, mx.handles([other]))
        @test copy(other) ≈ max.(w_val' * -x_val .+ b_val, 0)
        @test copy(out) ≈ max.(w_val' * x_val .+ b_val, 0)   # untouched by the second call
        copy!(inputs[:x], x_val)
        @test_throws mx.MXError mx.invoke!(op, in_handles[1:2], mx.handles([out]))
        @test_throws mx.MXError mx.invoke!(op, in_handles, mx.handles([out, other]))
    end

    @testset "profile: each operator's calls and time, and no trace file left behind" begin
        op = mx.CachedOp(graph)
        in_handles = mx.handles([inputs[name] for name in op.arguments])
        out = mx.zeros(4, 3)
        dir = mktempdir()
        result, stats = cd(dir) do
            mx.profile(() -> (foreach(_ -> mx.invoke!(op, in_handles, mx.handles([out])), 1:5); :done))
        end
        @test result == :done
        @test stats["operator"]["FullyConnected"][1] == 5 && stats["operator"]["Activation"][1] == 5
        @test all(ms >= 0 for (_, ms) in values(stats["operator"]))
        @test isempty(readdir(dir))
        # Off again: calls after it are not counted in the next profile.
        mx.invoke!(op, in_handles, mx.handles([out]))
        _, again = mx.profile(() -> mx.invoke!(op, in_handles, mx.handles([out])))
        @test again["operator"]["FullyConnected"][1] == 1
    end
end
