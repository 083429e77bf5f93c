@testset "symbolic_node" begin
    @testset "every registry operator is a documented function" begin
        ops = mx.list_ops()
        @test length(ops) == length(unique(op.name for op in ops)) > 800
        missing_ops = [op.name for op in ops
                       if !(isdefined(mx, Symbol(op.name)) &&
                            hasmethod(getfield(mx, Symbol(op.name)), Tuple{mx.SymbolicNode}))]
        @test isempty(missing_ops)
        doc = string(Base.Docs.doc(mx.FullyConnected))
        @test occursin("FullyConnected(data, weight, bias; num_hidden", doc)
        @test occursin("Number of hidden nodes of the output", doc)
        # Operators named like Julia functions live in mx only.
        @test mx.sum !== Base.sum && sum([1, 2, 3]) == 6 && exp(0.0) == 1.0
        @test mx.list_outputs(mx.sum(mx.Variable(:x); name = :total)) == [:total_output]
        # Operator handles are looked up in this process, never taken from the precompiled image.
        @test !isempty(mx.OP_HANDLES) && all(h -> h != C_NULL, values(mx.OP_HANDLES))
    end

    @testset "variables and attributes" begin
        v = mx.Variable(:w; attrs = Dict(:lr_mult => "2"))
        @test mx.get_name(v) == :w
        @test mx.get_attr(v, :lr_mult) == "2"
        @test mx.get_attr(v, :absent) === nothing
        mx.set_attr(v, "mood", "calm")
        @test mx.get_attr(v, :mood) == "calm"
        @test mx.list_arguments(v) == [:w]
    end

    @testset "operator inputs and names" begin
        x = mx.Variable(:x)
        fc = mx.FullyConnected(x; num_hidden = 4, name = :fc1)
        @test mx.list_arguments(fc) == [:x, :fc1_weight, :fc1_bias]
        @test mx.list_outputs(fc) == [:fc1_output]
        @test mx.get_name(fc) == :fc1
        w = mx.Variable(:w)
        by_name = mx.FullyConnected(data = x, weight = w, num_hidden = 10, no_bias = true, name = "fc2")
        @test mx.list_arguments(by_name) == [:x, :w]
        mixed = mx.FullyConnected(x, weight = w, num_hidden = 3, name = :fc3)
        @test mx.list_arguments(mixed) == [:x, :w, :fc3_bias]
        @test_throws mx.MXError mx.FullyConnected(x, data = x, num_hidden = 3)
        @test_throws mx.MXError mx.FullyConnected(x, w, x, weight = w, num_hidden = 3)
        # Unnamed nodes get distinct names, as in Python.
        a, b = mx.Activation(x; act_type = :relu), mx.Activation(x; act_type = :relu)
        @test mx.get_name(a) != mx.get_name(b)
        @test startswith(string(mx.get_name(a)), "activation")
        # Parameters reach libmxnet as it spells them.
        json = mx.to_json(by_name)
        @test occursin("\"no_bias\": \"true\"", json) && occursin("\"num_hidden\": \"10\"", json)
        err = try mx.FullyConnected(x; num_hidden = 3, bogus = 1); nothing catch e; e end
        @test err isa mx.MXError && occursin("bogus", err.msg)
        # Operator nodes take only hidden (__key__) attributes besides their parameters.
        @test mx.get_attr(mx.Dropout(x; p = 0.5, attrs = Dict(:__tag__ => "d")), :__tag__) == "d"
    end

    @testset "parameter strings" begin
        @test mx.param_string(:kernel, (3, 5)) == "(5,3)"        # per-dimension: reversed
        @test mx.param_string(:axes, (0, 2, 1)) == "(0,2,1)"     # axis numbers: unchanged
        @test mx.param_string(:shape, (7,)) == "(7,)"
        @test mx.param_string(:flag, false) == "false"
        @test mx.param_string(:axis, nothing) == "None"
        @test mx.param_string(:dtype, Float64) == "float64"
        @test mx.param_string(:act_type, :tanh) == "tanh"
        @test mx.param_string(:scalar, 1f-5) == "1.0e-5"
        @test startswith(mx.param_string(:scalar, π), "3.14159")
        @test mx.param_string(:scalar, 1 // 4) == "0.25"
    end

    @testset "infer_shape in Julia's order" begin
        x = mx.Variable(:x)
        fc = mx.FullyConnected(x; num_hidden = 4, name = :fc1)
        arg_shapes, out_shapes, aux_shapes = mx.infer_shape(fc; x = (5, 8))
        @test arg_shapes == [(5, 8), (5, 4), (4,)]
        @test out_shapes == [(4, 8)]
        @test isempty(aux_shapes)
        @test mx.infer_shape(fc, Dict(:x => (5, 8))) == (arg_shapes, out_shapes, aux_shapes)
        @test mx.infer_shape(fc) === nothing
        # Shape parameters are in Julia's order too.
        reshaped = mx.Reshape(x; shape = (4, 6))
        @test mx.infer_shape(reshaped; x = (2, 12))[2] == [(4, 6)]
        bn = mx.BatchNorm(x; name = :bn)
        @test mx.list_auxiliary_states(bn) == [:bn_moving_mean, :bn_moving_var]
        # BatchNorm's axis=1 (libmxnet's channels) is Julia's dimension 1 of a matrix.
        @test mx.infer_shape(bn; x = (3, 7))[3] == [(3,), (3,)]
        # Variadic operators count their inputs themselves.
        cat = mx.Concat(mx.Variable(:a), mx.Variable(:b), mx.Variable(:c); dim = 1)
        @test mx.infer_shape(cat; a = (2, 3), b = (2, 3), c = (2, 3))[2] == [(6, 3)]
    end

    @testset "multiple outputs" begin
        x = mx.Variable(:x)
        gates = mx.SliceChannel(x; num_outputs = 4, name = :slice)
        @test mx.list_outputs(gates) == [:slice_output0, :slice_output1, :slice_output2, :slice_output3]
        @test mx.list_outputs(gates[2]) == [:slice_output1]
        @test_throws BoundsError gates[5]
        @test_throws BoundsError gates[0]
        group = mx.Group(mx.FullyConnected(x; num_hidden = 2, name = :p), gates[4])
        @test mx.list_outputs(group) == [:p_output, :slice_output3]
        @test mx.get_name(group) === nothing
        @test mx.list_outputs(group[1]) == [:p_output]
    end

    @testset "arithmetic builds nodes" begin
        x, y = mx.Variable(:x), mx.Variable(:y)
        z = (x .* y + 2 .* x) ./ y .- 1
        @test mx.list_arguments(z) == [:x, :y]
        @test occursin("elemwise_mul", mx.to_json(z)) && occursin("_rminus_scalar", mx.to_json(-1 - x))
    end

    @testset "JSON and files" begin
        x = mx.Variable(:x)
        net = mx.SoftmaxOutput(mx.FullyConnected(x; num_hidden = 3, name = :fc); name = :out)
        json = mx.to_json(net)
        again = mx.from_json(json, mx.SymbolicNode)
        @test mx.to_json(again) == json
        @test mx.list_arguments(again) == [:x, :fc_weight, :fc_bias, :out_label]
        mktempdir() do dir
            file = joinpath(dir, "net-symbol.json")
            mx.save(file, net)
            @test occursin("SoftmaxOutput", read(file, String))
            @test mx.to_json(mx.load(file, mx.SymbolicNode)) == json
        end
        @test_throws mx.MXError mx.from_json("{not json", mx.SymbolicNode)
    end
end
