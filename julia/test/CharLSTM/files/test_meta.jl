@testset "meta file" begin
    dir = mktempdir()
    path, params, vocab, spec = make_checkpoint(dir)
    prefix = joinpath(dir, "ptb")
    legacy = normpath(joinpath(@__DIR__, "..", "..", "..", "..", "tests", "fixtures", "legacy"))
    file_dict(prefix) = JSON.parse_json(read(CharLSTM.meta_path(prefix), String))
    # Whether two values hold the same (RunMeta and its records are mutable: == would be ===).
    function same(a, b)
        typeof(a) == typeof(b) || return false
        a isa Union{Number,AbstractChar,AbstractString,Symbol,Nothing} && return isequal(a, b)
        a isa AbstractDict && return Set(keys(a)) == Set(keys(b)) && all(same(a[k], b[k]) for k in keys(a))
        a isa AbstractVector && return length(a) == length(b) && all(same(x, y) for (x, y) in zip(a, b))
        return all(same(getfield(a, f), getfield(b, f)) for f in fieldnames(typeof(a)))
    end

    @testset "schema, atomic write" begin
        @test path == joinpath(dir, "ptb-0001.params")
        @test sort(readdir(dir)) == ["ptb-0001.params", "ptb-meta.json"]   # no temp file left
        d = file_dict(prefix)
        @test d["format"] == "pyjlchar-checkpoint/2"
        @test d["vocab"] == CharLSTM.vocab_to_list(vocab)
        @test d["unknown_class"] == CharLSTM.unknown_class(vocab)
        @test d["model"] == Dict("name" => "ptb", "cell" => "lstm", "graph" => "unrolled", "layers" => 2, "hidden" => 8,
                                 "embed" => 6, "dropout" => 0.0, "n_class" => spec.n_class)
        @test d["data"] == Dict("corpus" => "test", "train_ratio" => 0.9)
        @test d["train"] == CharLSTM.section_dict(test_settings())
        @test d["history"] == [Dict("epoch" => 1, "train_nll" => 3.0, "val_nll" => nothing, "seconds" => 0.5,
                                    "graph" => "unrolled")]
        @test d["epoch"] == 1 && d["epochs"] == 1
        @test d["validations"] == Dict("best_val_nll" => nothing, "since_best" => 0)   # Inf: no validation yet
        meta = CharLSTM.read_meta(CharLSTM.meta_path(prefix))
        @test meta.model == spec && meta.vocab.chars == vocab.chars && meta.epoch == 1
        @test meta.validations.best == Inf
        @test CharLSTM.differing_setting(test_settings(), meta.train) === nothing
        @test CharLSTM.differing_setting(test_settings(seed = 2), meta.train) == (:seed, 1, 2)
        @test CharLSTM.differing_setting(data_settings(train_ratio = 0.8), meta.data) == (:train_ratio, 0.9, 0.8)
    end

    @testset "history: a resumed run replaces the epochs it redoes" begin
        meta = CharLSTM.RunMeta(vocab, spec, data_settings(), test_settings(), 3)
        for epoch in [1, 2, 3, 2]
            CharLSTM.record_epoch!(meta, epoch; train_nll = epoch, val_nll = 1.5, seconds = 1, graph = :unrolled)
        end
        @test [h.epoch for h in meta.history] == [1, 2] && meta.epoch == 2
        @test_throws ArgumentError CharLSTM.RunMeta(vocab, spec_for(3), data_settings(), test_settings(), 1)
    end

    @testset "a RunMeta written and read back is equal" begin
        fresh = CharLSTM.RunMeta(vocab, spec, data_settings(), test_settings(), 4)
        CharLSTM.write_meta(joinpath(dir, "fresh"), fresh)
        @test same(CharLSTM.read_meta(CharLSTM.meta_path(joinpath(dir, "fresh"))), fresh)
        # Every record a run's meta can hold.
        meta = CharLSTM.RunMeta(vocab, CharLSTM.with_graph(spec, :fused),
                                data_settings(corpus = ["a.txt", "b folder"], train_ratio = 0.75),
                                test_settings(lr_schedule = :cosine, warmup = 3, min_lr = 0.001), 5)
        CharLSTM.record_epoch!(meta, 1; train_nll = 2.5, val_nll = 2.25, seconds = 3.5, graph = :unrolled)
        CharLSTM.record_epoch!(meta, 2; train_nll = 2.0, val_nll = nothing, seconds = 3.25, graph = :fused)
        meta.history[1].pruned = true
        meta.partial = CharLSTM.PartialEpoch(3, 20, 1.75, 1.5, :fused, "ptb-0003-000020")
        push!(meta.checkpoints, CharLSTM.IntervalCheckpoint(3, 10, "ptb-0003-000010", 1.8, nothing),
              CharLSTM.IntervalCheckpoint(3, 20, "ptb-0003-000020", 1.75, 1.9))
        meta.validations = CharLSTM.ValidationRecord(1.9, 2)
        meta.stopped_early = CharLSTM.EarlyStopRecord(3, 20, 1.9, 2)
        meta.corpus_identity = CharLSTM.CorpusIdentity(1234, "ab"^32)
        CharLSTM.write_meta(joinpath(dir, "rich"), meta)
        back = CharLSTM.read_meta(CharLSTM.meta_path(joinpath(dir, "rich")))
        @test same(back, meta)
        @test back.data.corpus == ["a.txt", "b folder"] && back.history[2].val_nll === nothing
        @test CharLSTM.meta_dict(back) == CharLSTM.meta_dict(meta)
        @test !same(back, fresh)   # the comparison can fail
    end

    @testset "format 1 (written before the model had a graph) still reads" begin
        for (run, graph) in (("lstm", :unrolled), ("fused", :fused))
            old = joinpath(legacy, run, "legacy")
            @test file_dict(old)["format"] == "pyjlchar-checkpoint/1"
            meta = CharLSTM.read_meta(CharLSTM.meta_path(old))
            @test meta.model == CharLSTM.check(CharLSTM.ModelSpec(; name = "legacy", cell = :lstm, graph = graph,
                                                                  layers = 2, hidden = 16, embed = 8, dropout = 0.0,
                                                                  n_class = 49))
            @test [h.graph for h in meta.history] == [graph, graph] && meta.epoch == 2 && meta.epochs == 2
            @test meta.data == data_settings(corpus = "corpus.txt", train_ratio = 0.9)   # from the old "train"
            @test meta.train == test_settings(seq_len = 16, batch_size = 8, grad_clip = 1.0, weight_decay = 1e-5, seed = 3)
            @test meta.corpus_identity.characters == 24000 && meta.validations.best == meta.history[2].val_nll
            @test meta.partial === nothing && isempty(meta.checkpoints) && meta.stopped_early === nothing
            # Written again it is a format-2 file, and reads back the same.
            CharLSTM.write_meta(joinpath(dir, "legacy-$run"), meta)
            @test file_dict(joinpath(dir, "legacy-$run"))["format"] == "pyjlchar-checkpoint/2"
            @test same(CharLSTM.read_meta(CharLSTM.meta_path(joinpath(dir, "legacy-$run"))), meta)
        end
    end

    @testset "a file name that is not a plain name in the run's folder is refused" begin
        good = CharLSTM.meta_dict(CharLSTM.read_meta(CharLSTM.meta_path(prefix)))
        bad_prefix = joinpath(dir, "unsafe")
        for name in ("../x.params", "/etc/passwd", "sub/ptb-0001-000010", "..", ".", "", 7)
            for where in (:partial, :checkpoints)
                d = deepcopy(good)
                if where == :partial
                    d["partial"] = Dict{String,Any}("epoch" => 2, "batches_done" => 10, "train_nll" => 1.0,
                                                    "seconds" => 1.0, "graph" => "unrolled", "file" => name)
                else
                    d["checkpoints"] = [Dict{String,Any}("epoch" => 2, "batch" => 10, "file" => name,
                                                         "train_nll" => 1.0, "val_nll" => nothing)]
                end
                write(CharLSTM.meta_path(bad_prefix), JSON.json(d))
                msg = user_error(() -> CharLSTM.read_meta(CharLSTM.meta_path(bad_prefix)))
                @test msg !== nothing && occursin("is damaged", msg) && occursin("not a plain file name", msg)
            end
        end
        good["checkpoints"] = [Dict{String,Any}("epoch" => 2, "batch" => 10, "file" => "ptb-0002-000010",
                                                "train_nll" => 1.0, "val_nll" => nothing)]
        write(CharLSTM.meta_path(bad_prefix), JSON.json(good))
        @test CharLSTM.read_meta(CharLSTM.meta_path(bad_prefix)).checkpoints[1].file == "ptb-0002-000010"
    end

    @testset "a malformed meta is one sentence" begin
        good = read(CharLSTM.meta_path(prefix), String)
        damaged = joinpath(dir, "damaged")
        for bad in ("\"history\": {}", "\"history\": [{\"train_nll\": 1.0, \"val_nll\": null}]",
                    "\"history\": [{\"epoch\": 1, \"train_nll\": 1.0, \"val_nll\": \"low\"}]")
            write(CharLSTM.meta_path(damaged), replace(good, r"\"history\": \[[^\]]*\]" => bad))
            @test occursin("the meta file $(CharLSTM.meta_path(damaged)) is damaged",
                           something(user_error(() -> CharLSTM.read_meta(CharLSTM.meta_path(damaged))), ""))
        end
        # A setting out of its rule, or a section missing a key, names it.
        d = JSON.parse_json(good)
        d["train"]["seq_len"] = 0
        write(CharLSTM.meta_path(damaged), JSON.json(d))
        msg = user_error(() -> CharLSTM.read_meta(CharLSTM.meta_path(damaged)))
        @test occursin("is damaged", msg) && occursin("'seq_len' in [train]", msg)
        d = JSON.parse_json(good)
        delete!(d["data"], "train_ratio")
        write(CharLSTM.meta_path(damaged), JSON.json(d))
        @test occursin("is damaged", user_error(() -> CharLSTM.read_meta(CharLSTM.meta_path(damaged))))
        write(CharLSTM.meta_path(damaged), "{\"format\": \"something else\"}")
        @test occursin("not a pyjlchar checkpoint", user_error(() -> CharLSTM.read_meta(CharLSTM.meta_path(damaged))))
        write(CharLSTM.meta_path(damaged), "{\"format\": ")
        @test occursin("corrupt", user_error(() -> CharLSTM.read_meta(CharLSTM.meta_path(damaged))))
        @test occursin("is missing", user_error(() -> CharLSTM.read_meta(joinpath(dir, "none-meta.json"))))
    end
end
