@testset "checkpoint meta and loading" begin
    dir = mktempdir()
    path, params, vocab, spec = make_checkpoint(dir)
    prefix = joinpath(dir, "ptb")
    user_error(f) = try f(); nothing catch e; e isa PyJLChar.UserError ? e.msg : rethrow() end

    @testset "meta file: schema, atomic write, round trip" begin
        @test path == joinpath(dir, "ptb-0001.params")
        @test sort(readdir(dir)) == ["ptb-0001.params", "ptb-meta.json"]   # no temp file left
        meta = PyJLChar.read_meta(PyJLChar.meta_path(prefix))
        @test meta["format"] == "pyjlchar-checkpoint/1"
        @test meta["vocab"] == PyJLChar.vocab_to_list(vocab)
        @test meta["unknown_class"] == PyJLChar.unknown_class(vocab)
        @test meta["model"] == Dict("name" => "ptb", "layers" => 2, "hidden" => 8, "embed" => 6,
                                    "dropout" => 0.0, "cell" => "lstm", "n_class" => spec.n_class)
        @test meta["train"] == PyJLChar.settings_dict(test_settings())
        @test PyJLChar.differing_setting(test_settings(), meta["train"]) === nothing
        @test PyJLChar.differing_setting(test_settings(seed = 2), meta["train"]) == (:seed, 1, 2)
        @test meta["history"] == [Dict("epoch" => 1, "train_nll" => 3.0, "val_nll" => nothing, "seconds" => 0.5, "cell" => "lstm")]
        @test meta["epoch"] == 1
        @test PyJLChar.model_spec(meta) == spec
        @test PyJLChar.meta_vocab(meta).chars == vocab.chars
    end

    @testset "history: a resumed run replaces the epochs it redoes" begin
        meta = PyJLChar.new_meta(vocab, spec, test_settings())
        for epoch in [1, 2, 3, 2]
            PyJLChar.record_epoch!(meta, epoch; train_nll = epoch, val_nll = 1.5, seconds = 1, cell = :lstm)
        end
        @test [h["epoch"] for h in meta["history"]] == [1, 2] && meta["epoch"] == 2
    end

    @testset "checkpoint_file: a .params file, or a prefix's best validated epoch" begin
        @test PyJLChar.checkpoint_file(path) == path
        meta = PyJLChar.read_meta(PyJLChar.meta_path(prefix))
        run = joinpath(mktempdir(), "ptb")
        for (epoch, val_nll) in ((1, 2.0), (2, 1.5), (3, 1.7))
            PyJLChar.record_epoch!(meta, epoch; train_nll = 1.0, val_nll = val_nll, seconds = 1, cell = :lstm)
        end
        PyJLChar.write_meta(run, meta)
        @test PyJLChar.checkpoint_file(run) == run * "-0002.params"
        @test occursin("does not exist", user_error(() -> PyJLChar.checkpoint_file(run * "-0009.params")))
        @test occursin("is missing", user_error(() -> PyJLChar.checkpoint_file(joinpath(dir, "other"))))
        PyJLChar.write_meta(run, PyJLChar.new_meta(vocab, spec, test_settings()))
        @test occursin("no epoch yet", user_error(() -> PyJLChar.checkpoint_file(run)))
    end

    @testset "load_trained" begin
        meta, _, loaded = PyJLChar.load_trained(path)
        @test meta["epoch"] == 1
        @test Set(keys(loaded)) == Set(keys(params))
        @test all(copy(loaded[k]) == copy(params[k]) for k in keys(params))
    end

    @testset "user errors" begin
        @test occursin("does not exist", user_error(() -> PyJLChar.load_trained(joinpath(dir, "ptb-0002.params"))))

        other = mktempdir()
        cp(path, joinpath(other, "ptb-0001.params"))
        @test occursin("meta file", user_error(() -> PyJLChar.load_trained(joinpath(other, "ptb-0001.params"))))

        bytes = read(path)
        truncated = joinpath(dir, "ptb-0002.params")
        write(truncated, bytes[1:end÷2])
        @test occursin("corrupt or truncated", user_error(() -> PyJLChar.load_trained(truncated)))
        write(truncated, "not a params file")
        @test occursin("corrupt or truncated", user_error(() -> PyJLChar.load_trained(truncated)))

        write(PyJLChar.meta_path(joinpath(other, "ptb")), "{\"format\": \"something else\"}")
        @test occursin("not a pyjlchar checkpoint", user_error(() -> PyJLChar.load_trained(joinpath(other, "ptb-0001.params"))))
        write(PyJLChar.meta_path(joinpath(other, "ptb")), "{\"format\": ")
        @test occursin("corrupt", user_error(() -> PyJLChar.load_trained(joinpath(other, "ptb-0001.params"))))
    end

    @testset "a checkpoint of a different architecture" begin
        meta = PyJLChar.read_meta(PyJLChar.meta_path(prefix))
        meta["model"]["hidden"] = 10
        other = mktempdir()
        cp(path, joinpath(other, "ptb-0001.params"))
        PyJLChar.write_meta(joinpath(other, "ptb"), meta)
        msg = user_error(() -> PyJLChar.load_trained(joinpath(other, "ptb-0001.params")))
        @test occursin("different architecture", msg)
        # Named and shaped as libmxnet shows them: (4 * hidden, embed).
        @test occursin("ptb_l1_i2h_weight", msg) && occursin("(32, 6)", msg) && occursin("(40, 6)", msg)

        partial = joinpath(other, "ptb-0002.params")
        mx.save(partial, Dict("arg:$k" => v for (k, v) in params if k != :ptb_pred_bias))
        PyJLChar.write_meta(joinpath(other, "ptb"), PyJLChar.read_meta(PyJLChar.meta_path(prefix)))
        msg = user_error(() -> PyJLChar.load_trained(partial))
        @test occursin("lacks parameter ptb_pred_bias", msg) && occursin("different architecture", msg)
    end
end
