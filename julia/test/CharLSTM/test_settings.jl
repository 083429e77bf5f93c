# The settings structs (settings.jl, generated from pyjlchar/settings.py) and how a section of
# them, as Python sends it, becomes one (sections.jl).
@testset "settings" begin
    C = CharLSTM
    # Sections as JSON gives them: string keys, Int64/Float64/String/Bool and Vector{Any}.
    sections = Dict(
        C.DataSettings => Dict{String,Any}("corpus" => Any["a.txt", "b"], "train_ratio" => 0.9),
        C.ModelSpec => Dict{String,Any}("name" => "ptb", "cell" => "lstm", "graph" => "fused", "layers" => 2,
                                        "hidden" => 8, "embed" => 6, "dropout" => 0, "n_class" => 30),
        C.TrainSettings => C.section_dict(test_settings(learning_rate = 1.0)),
        C.RunPolicy => C.section_dict(run_policy()),
        C.ComputeSettings => Dict{String,Any}("context" => "cpu:0,1", "kvstore" => "device",
                                              "gradient_compression" => "2bit", "compression_threshold" => 1),
        C.SampleSettings => C.section_dict(sample_settings()))
    error_of(f) = try f(); nothing catch e; e end

    @testset "from_section: keys as fields, values converted to their types" begin
        @test Set(values(C.SECTION_STRUCTS)) == Set(keys(sections))
        data = C.from_section(C.DataSettings, sections[C.DataSettings])
        @test data.corpus == ["a.txt", "b"] && data.corpus isa Vector{String}
        spec = C.from_section(C.ModelSpec, sections[C.ModelSpec])
        @test spec == spec_for(30; graph = :fused) && spec.dropout === 0.0
        compute = C.from_section(C.ComputeSettings, sections[C.ComputeSettings])
        @test compute.kvstore == :device && compute.gradient_compression == Symbol("2bit")
        @test compute.compression_threshold === 1.0
        for (T, section) in sections   # and back again, as a meta file records them
            s = C.from_section(T, section)
            # (fieldwise: a struct's == compares a Vector field by identity)
            @test s isa T && C.section_dict(C.from_section(T, C.section_dict(s))) == C.section_dict(s)
        end
        # A command supplies what Python does not know (the vocabulary's n_class).
        model = delete!(copy(sections[C.ModelSpec]), "n_class")
        @test C.from_section(C.ModelSpec, model; n_class = 30) == spec
        # Python gives the corpus as one name or a list of them.
        @test C.from_section(C.DataSettings, Dict{String,Any}("corpus" => "one.txt", "train_ratio" => 0.5)).corpus == "one.txt"
    end

    @testset "from_section: a missing and an unknown key are named ($(nameof(T)))" for T in keys(sections)
        section = sections[T]
        for key in keys(section)
            e = error_of(() -> C.from_section(T, delete!(copy(section), key)))
            # Python always sends the whole section: a broken invariant, not the user's mistake.
            @test e isa ArgumentError && occursin("missing $key", e.msg)
        end
        e = error_of(() -> C.from_section(T, merge(section, Dict{String,Any}("colour" => "red"))))
        @test e isa ArgumentError && occursin("unknown colour", e.msg)
    end

    @testset "from_section checks the values" begin
        bad = merge(sections[C.ModelSpec], Dict{String,Any}("layers" => 0))
        e = error_of(() -> C.from_section(C.ModelSpec, bad))
        @test e isa PyJLChar.UserError && occursin("'layers' in [model] must be an integer from 1 to 1024, not 0", e.msg)
        @test error_of(() -> C.from_section(C.ModelSpec, merge(sections[C.ModelSpec],
                                                              Dict{String,Any}("hidden" => 2.5)))) isa InexactError
    end

    # Each check names the key, its section and its rule (the bound), and the value refused.
    function refused(s, section, key, rule)
        e = error_of(() -> C.check(s))
        return e isa PyJLChar.UserError && startswith(e.msg, "'$key' in [$section] must be $rule, not ")
    end
    make(T; changes...) = T(; (f => get(changes, f, getfield(C.from_section(T, sections[T]), f)) for f in fieldnames(T))...)

    @testset "check: [data]" begin
        D(; kw...) = make(C.DataSettings; kw...)
        @test C.check(D(train_ratio = 0.999)).train_ratio == 0.999
        for r in (0.0, 1.0, -0.5)
            @test refused(D(train_ratio = r), "data", "train_ratio", "a number between 0 and 1, both excluded")
        end
        for corpus in ("", String[], ["a.txt", ""])
            @test refused(D(corpus = corpus), "data", "corpus", "a non-empty string or list of them (a corpus name, file or folder)")
        end
    end

    @testset "check: [model]" begin
        M(; kw...) = make(C.ModelSpec; kw...)
        @test C.check(M(layers = 1024, dropout = 0.0, name = "A_b-9")) isa C.ModelSpec
        @test refused(M(layers = 0), "model", "layers", "an integer from 1 to 1024")
        @test refused(M(layers = 1025), "model", "layers", "an integer from 1 to 1024")
        @test refused(M(hidden = 0), "model", "hidden", "an integer from 1 to 1048576")
        @test refused(M(dropout = 1.0), "model", "dropout", "a number from 0 up to but excluding 1")
        @test refused(M(dropout = -0.1), "model", "dropout", "a number from 0 up to but excluding 1")
        @test refused(M(name = "my model"), "model", "name", "made of letters, digits, '_' and '-' only (it names the checkpoint files)")
        @test refused(M(name = ""), "model", "name", "made of letters, digits, '_' and '-' only (it names the checkpoint files)")
        @test refused(M(name = "../x"), "model", "name", "made of letters, digits, '_' and '-' only (it names the checkpoint files)")
        @test refused(M(graph = :lstm), "model", "graph", "one of \"fused\", \"unrolled\"")
        @test refused(M(cell = :gru), "model", "cell", "one of \"lstm\"")
        @test refused(M(n_class = 0), "model", "n_class", "an integer from 1 to 2147483647")
        # with_fields checks what it changes.
        @test_throws PyJLChar.UserError C.with_fields(M(); hidden = 0)
        @test C.with_fields(M(); hidden = 3).hidden == 3
    end

    @testset "check: [train]" begin
        @test C.check(test_settings(lr_factor = 1.0, seed = 0, warmup = 0)) isa C.TrainSettings
        T(; kw...) = make(C.TrainSettings; kw...)
        @test refused(T(seq_len = 0), "train", "seq_len", "an integer from 1 to 1048576")
        @test refused(T(batch_size = 2^20 + 1), "train", "batch_size", "an integer from 1 to 1048576")
        @test refused(T(learning_rate = 0.0), "train", "learning_rate", "a number above 0 and at most 3.4e38")
        @test refused(T(learning_rate = Inf), "train", "learning_rate", "a number above 0 and at most 3.4e38")
        @test refused(T(learning_rate = NaN), "train", "learning_rate", "a number above 0 and at most 3.4e38")
        @test refused(T(grad_clip = -1.0), "train", "grad_clip", "a number from 0 to 3.4e38 (0: no clipping)")
        @test refused(T(lr_factor = 1.5), "train", "lr_factor", "a number above 0 and at most 1")
        @test refused(T(warmup = -1), "train", "warmup", "an integer from 0 to 2147483647 (0: no warm-up)")
        @test refused(T(seed = -1), "train", "seed", "an integer from 0 to 2147483647")
        @test refused(T(optimizer = :rmsprop), "train", "optimizer", "one of \"adam\", \"sgd\"")
        @test refused(T(lr_schedule = :linear), "train", "lr_schedule", "one of \"constant\", \"step\", \"exponential\", \"cosine\"")
    end

    @testset "check: [run]" begin
        R(; kw...) = make(C.RunPolicy; kw...)
        @test C.check(R(eval_every = 0, keep_last = 0, keep_best = 1)) isa C.RunPolicy
        @test refused(R(epochs = 0), "run", "epochs", "an integer from 1 to 2147483647")
        @test refused(R(keep_best = 0), "run", "keep_best", "an integer from 1 to 2147483647")
        @test refused(R(eval_every = -1), "run", "eval_every", "an integer from 0 to 2147483647 (0: at the end of each epoch only)")
        @test refused(R(patience = -1), "run", "patience", "an integer from 0 to 2147483647 (0: never stop early)")
        @test refused(R(checkpoint_dir = ""), "run", "checkpoint_dir", "a non-empty string")
    end

    @testset "check: [compute]" begin
        P(; kw...) = make(C.ComputeSettings; kw...)
        @test all(C.check(P(context = c)) isa C.ComputeSettings for c in ("cpu", "gpu", "gpu:0", "cpu:0,1", "gpu:2,10"))
        context_rule = "cpu, gpu, or a list of distinct device numbers such as gpu:0,1 or cpu:0,1"
        for context in ("", "tpu", "gpu:", "gpu:0,,1", "cpu:a", " cpu", "gpu:0 ")
            @test refused(P(context = context), "compute", "context", context_rule)
        end
        @test refused(P(kvstore = :nccl), "compute", "kvstore",
                      "one of \"local\", \"device\", \"dist_sync\", \"dist_device_sync\", \"dist_async\"")
        @test refused(P(gradient_compression = :fp16), "compute", "gradient_compression", "one of \"none\", \"2bit\"")
        @test refused(P(compression_threshold = 0.0), "compute", "compression_threshold", "a number above 0 and at most 3.4e38")
    end

    @testset "check: [sample]" begin
        S(; kw...) = make(C.SampleSettings; kw...)
        @test C.check(S(temperature = 0.0, top_k = 0, top_p = 1.0)) isa C.SampleSettings
        @test refused(S(length = 0), "sample", "length", "an integer from 1 to 2147483647")
        @test refused(S(num_samples = 0), "sample", "num_samples", "an integer from 1 to 1048576")
        @test refused(S(prime = ""), "sample", "prime", "a non-empty string")
        @test refused(S(temperature = -1.0), "sample", "temperature",
                      "a number from 0 to 3.4e38 (0: always the likeliest character)")
        @test refused(S(top_k = -1), "sample", "top_k", "an integer from 0 to 2147483647 (0: no limit)")
        @test refused(S(top_p = 0.0), "sample", "top_p", "a number above 0 and at most 1")
        @test refused(S(top_p = 1.5), "sample", "top_p", "a number above 0 and at most 1")
    end

    @testset "devices: what a context names, and what this libmxnet runs" begin
        @test CharLSTM.devices("cpu") == [mx.cpu()]
        @test CharLSTM.devices("cpu:0,1") == [mx.cpu(0), mx.cpu(1)]
        @test occursin("names a device twice", user_error(() -> CharLSTM.devices("cpu:1,1")))
        mx.has_feature("CUDA") || @test occursin("CUDA", something(user_error(() -> CharLSTM.devices("gpu")), ""))
    end
end
