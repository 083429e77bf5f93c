@testset "fused cell" begin
    dir = mktempdir()
    path, params, vocab, spec = make_checkpoint(dir)
    fused_spec = PyJLChar.with_cell(spec, :fused)
    fused = PyJLChar.convert_cell(params, spec, :fused)

    @testset "weights convert both ways, exactly" begin
        @test Dict(PyJLChar.parameter_shapes(fused_spec)) == Dict(k => size(v) for (k, v) in fused)
        back = PyJLChar.convert_cell(fused, fused_spec, :lstm)
        @test Set(keys(back)) == Set(keys(params))
        @test all(copy(back[k]) == copy(params[k]) for k in keys(params))
    end

    @testset "same probabilities and final states as the unrolled cells" begin
        ids = Int32.(rand(Random.MersenneTwister(3), 0:spec.n_class-1, 5, 3))
        unrolled_p = PyJLChar.StatefulPredictor(spec, params, 5, 3)
        fused_p = PyJLChar.StatefulPredictor(fused_spec, fused, 5, 3)
        for _ in 1:2   # the second call starts from the carried states
            a, b = PyJLChar.predict!(unrolled_p, ids), PyJLChar.predict!(fused_p, ids)
            @test all(isapprox(x, y; atol = 1e-5) for (x, y) in zip(a, b))
            @test all(isapprox(copy(x), copy(y); atol = 1e-5)
                      for (x, y) in zip(unrolled_p.init_states, fused_p.init_states))
        end
    end

    @testset "the same NLL on the same weights, whichever cell evaluates" begin
        text = FIXTURE_TEXT
        own = PyJLChar.evaluate_text(PyJLChar.TrainedModel(path), text)["nll"]
        as_fused = PyJLChar.TrainedModel(path; cell = :fused)
        @test isapprox(PyJLChar.evaluate_text(as_fused, text)["nll"], own; atol = 1e-5)
        # A checkpoint saved by the fused cell, evaluated both ways.
        fused_dir = mktempdir()
        prefix = joinpath(fused_dir, "ptb")
        mx.save(mx.checkpoint_params_file(prefix, 1), Dict("arg:$k" => v for (k, v) in fused))
        PyJLChar.write_meta(prefix, PyJLChar.new_meta(vocab, fused_spec, test_settings()))
        fused_path = mx.checkpoint_params_file(prefix, 1)
        @test PyJLChar.load_trained(fused_path)[2].cell == :fused
        @test isapprox(PyJLChar.evaluate_text(PyJLChar.TrainedModel(fused_path), text)["nll"], own; atol = 1e-5)
        as_lstm = PyJLChar.TrainedModel(fused_path; cell = :lstm)
        @test isapprox(PyJLChar.evaluate_text(as_lstm, text)["nll"], own; atol = 1e-5)
        @test sample_from(fused_path; length = 20, temperature = 0, prime = "he") ==
              sample_from(path; length = 20, temperature = 0, prime = "he")
    end

    @testset "training takes the same steps (gradients agree)" begin
        text = repeat(FIXTURE_TEXT, 4)
        function one_epoch(s)
            mx.srand(7)
            model = mx.FeedForward(PyJLChar.LSTM(s, 6))
            model.arg_params = PyJLChar.initial_params(s, mx.UniformInitializer(0.1))
            metric = PyJLChar.NLL()
            Base.CoreLogging.with_logger(Base.CoreLogging.NullLogger()) do
                mx.fit(model, mx.ADAM(lr = 0.01), PyJLChar.CharSeqProvider(text, 4, 6, vocab, s);
                       n_epoch = 1, eval_metric = metric)
            end
            return model.arg_params, get(metric)[1][2]
        end
        unrolled_params, unrolled_nll = one_epoch(spec)
        fused_params, fused_nll = one_epoch(fused_spec)
        @test isapprox(fused_nll, unrolled_nll; atol = 1e-4)
        trained = PyJLChar.convert_cell(fused_params, fused_spec, :lstm)
        @test all(isapprox(copy(trained[k]), copy(unrolled_params[k]); atol = 1e-4) for k in keys(unrolled_params))
    end

    @testset "optimizer states convert with the weights" begin
        opt = mx.ADAM()
        states = Dict(name => mx.create_state(opt, 0, arr) for (name, arr) in params)
        for (name, state) in states
            mx.rand!(state.mean, -1, 1)
            state.t = 5
        end
        file = joinpath(dir, "ptb.states")
        mx.save_states(file, opt, states)
        loaded = mx.load_states(file, opt; convert = arrays -> PyJLChar.convert_cell(arrays, spec, :fused))
        @test Set(keys(loaded)) == Set(keys(fused))
        flat = :ptb_lstm_parameters
        expected = PyJLChar.convert_cell(Dict(k => s.mean for (k, s) in states), spec, :fused)[flat]
        @test copy(loaded[flat].mean) == copy(expected) && loaded[flat].t == 5
    end
end
