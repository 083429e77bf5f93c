@testset "executor" begin
    # libmxnet's FC weight (num_hidden, input) is Julia's (input, num_hidden): y = W'x .+ b.
    x_val = Float32[0.5 -1 2; 1 0 -0.5]            # 2 features, batch of 3
    w_val = Float32[1 -2 0.5 3; 2 1 -1 0.25]       # Julia (input 2, num_hidden 4)
    b_val = Float32[0.1, -0.2, 0.3, 0]
    fc_forward = w_val' * x_val .+ b_val
    out_grad = Float32[1 2 0; -1 0 1; 0.5 0.5 0.5; 2 -2 1]

    function fc_executor(; grad_req = :write, grads = nothing)
        fc = mx.FullyConnected(mx.Variable(:x); num_hidden = 4, name = :fc)
        args = Dict(:x => mx.NDArray(x_val), :fc_weight => mx.NDArray(w_val), :fc_bias => mx.NDArray(b_val))
        grads = grads === nothing ? Dict(k => mx.zeros(size(v)) for (k, v) in args) : grads
        return mx.bind(fc, mx.cpu(), args; args_grad = grads, grad_req = grad_req), grads
    end

    @testset "forward and backward against Julia" begin
        exec, grads = fc_executor()
        outputs = mx.forward(exec; is_train = true)
        @test outputs === exec.outputs && length(outputs) == 1
        @test copy(outputs[1]) ≈ fc_forward
        mx.backward(exec, mx.NDArray(out_grad))
        @test copy(grads[:fc_weight]) ≈ x_val * out_grad'
        @test copy(grads[:fc_bias]) ≈ vec(Base.sum(out_grad, dims = 2))
        @test copy(grads[:x]) ≈ w_val * out_grad
        @test exec.grad_dict[:fc_weight] === grads[:fc_weight]
        @test exec.arg_dict[:fc_bias] isa mx.NDArray && copy(exec.arg_dict[:fc_bias]) == b_val
        # Inputs given to forward are copied into the arguments.
        mx.forward(exec; x = 2 .* x_val)
        @test copy(exec.outputs[1]) ≈ w_val' * (2 .* x_val) .+ b_val
    end

    @testset "grad_req :null leaves gradients alone, :add accumulates" begin
        grads = Dict(:x => mx.NDArray(fill(7f0, 2, 3)), :fc_weight => mx.zeros(2, 4), :fc_bias => mx.zeros(4))
        exec, _ = fc_executor(grad_req = Dict(:x => :null, :fc_weight => :add, :fc_bias => :write), grads = grads)
        @test !haskey(exec.grad_dict, :x)
        for _ in 1:2
            mx.forward(exec; is_train = true)
            mx.backward(exec, [mx.NDArray(out_grad)])
        end
        @test copy(grads[:x]) == fill(7f0, 2, 3)
        @test copy(grads[:fc_weight]) ≈ 2 .* (x_val * out_grad')
        @test copy(grads[:fc_bias]) ≈ vec(Base.sum(out_grad, dims = 2))
        @test_throws mx.MXError fc_executor(grad_req = :sometimes)
    end

    @testset "simple_bind allocates from inferred sizes" begin
        fc = mx.FullyConnected(mx.Variable(:data); num_hidden = 3, name = :fc)
        net = mx.SoftmaxOutput(fc, mx.Variable(:label); name = :softmax)
        exec = mx.simple_bind(net, mx.cpu(); grad_req = Dict(:fc_weight => :write, :fc_bias => :write),
                              data = (5, 4), label = (4,))
        @test size(exec.arg_dict[:fc_weight]) == (5, 3)
        @test size(exec.arg_dict[:label]) == (4,)
        @test sort(collect(keys(exec.grad_dict))) == [:fc_bias, :fc_weight]
        @test size(exec.outputs[1]) == (3, 4)
        copy!(exec.arg_dict[:fc_weight], reshape(Float32.(1:15) ./ 10, 5, 3))
        data = reshape(Float32.(1:20) ./ 20, 5, 4)
        labels = Float32[0, 2, 1, 2]
        probs = copy(mx.forward(exec; is_train = true, data = data, label = labels)[1])
        @test vec(Base.sum(probs, dims = 1)) ≈ ones(4)
        mx.backward(exec)
        # Softmax cross-entropy: d loss / d logits = p - onehot(label).
        onehot = Float32[labels[j] == i - 1 for i in 1:3, j in 1:4]
        @test copy(exec.grad_dict[:fc_bias]) ≈ vec(Base.sum(probs .- onehot, dims = 2)) atol = 1e-5
        err = try mx.simple_bind(net, mx.cpu()); nothing catch e; e end
        @test err isa mx.MXError && occursin("give more of them", err.msg)
    end

    @testset "auxiliary states" begin
        bn = mx.BatchNorm(mx.Variable(:x); name = :bn)
        exec = mx.simple_bind(bn, mx.cpu(); grad_req = :null, x = (3, 4))
        @test sort(collect(keys(exec.aux_dict))) == [:bn_moving_mean, :bn_moving_var]
        @test size(exec.aux_dict[:bn_moving_var]) == (3,)
        @test isempty(exec.grad_dict)
        @test_throws mx.MXError mx.bind(bn, mx.cpu(), exec.arg_dict)   # aux states missing
    end

    @testset "arithmetic and multiple outputs through an executor" begin
        x, y = mx.Variable(:x), mx.Variable(:y)
        z = x .* y + 2 .* x .- 1
        a, b = Float32[1 2; 3 4], Float32[0.5 1; -1 2]
        gx, gy = mx.zeros(2, 2), mx.zeros(2, 2)
        exec = mx.bind(z, mx.cpu(), [mx.NDArray(a), mx.NDArray(b)]; args_grad = [gx, gy])
        @test copy(mx.forward(exec; is_train = true)[1]) ≈ a .* b .+ 2 .* a .- 1
        mx.backward(exec, mx.ones(2, 2))
        @test copy(gx) ≈ b .+ 2
        @test copy(gy) ≈ a

        # SliceChannel's default axis 1 (libmxnet) splits Julia's dimension 1 of a matrix,
        # as the LSTM's gates are cut from one (4H, batch) array.
        gates = mx.SliceChannel(x; num_outputs = 4)
        v = reshape(Float32.(1:24), 8, 3)
        exec = mx.bind(mx.Group(gates[1], gates[4]), mx.cpu(), [mx.NDArray(v)]; grad_req = :null)
        first_gate, last_gate = copy.(mx.forward(exec))
        @test first_gate == v[1:2, :] && last_gate == v[7:8, :]
    end

    @testset "errors carry libmxnet's text" begin
        fc = mx.FullyConnected(mx.Variable(:x); num_hidden = 4, name = :fc)
        err = try
            mx.bind(fc, mx.cpu(), [mx.zeros(5, 8), mx.zeros(4, 5), mx.zeros(4)])
            nothing
        catch e
            e
        end
        @test err isa mx.MXError
        @test occursin("Shape inconsistent", err.msg) && occursin("fc", err.msg)
        @test_throws mx.MXError mx.bind(fc, mx.cpu(), [mx.zeros(5, 8)])
        exec, _ = fc_executor()
        @test_throws mx.MXError mx.forward(exec; y = x_val)
    end
end
