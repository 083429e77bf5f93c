@testset "checkpoint" begin
    fc = mx.FullyConnected(mx.Variable(:data); num_hidden = 3, name = :fc)
    net = mx.BatchNorm(fc; name = :bn)
    args = Dict(:fc_weight => mx.NDArray(rand(Float32, 4, 3)), :fc_bias => mx.NDArray(rand(Float32, 3)),
                :bn_gamma => mx.NDArray(rand(Float32, 3)), :bn_beta => mx.NDArray(rand(Float32, 3)))
    aux = Dict(:bn_moving_mean => mx.NDArray(rand(Float32, 3)), :bn_moving_var => mx.NDArray(rand(Float32, 3)))

    @testset "checkpoints load back, in MXNet's names" begin
        dir = mktempdir()
        prefix = joinpath(dir, "sub", "net")
        file = @test_logs (:info, "Saved checkpoint to '$prefix-0007.params'") mx.save_checkpoint(net, prefix, 7, args, aux)
        @test file == "$prefix-0007.params"
        @test sort(readdir(joinpath(dir, "sub"))) == ["net-0007.params", "net-symbol.json"]   # no temp files
        @test Set(keys(mx.load(file, mx.NDArray))) ==
              Set(Symbol.(["arg:fc_weight", "arg:fc_bias", "arg:bn_gamma", "arg:bn_beta",
                           "aux:bn_moving_mean", "aux:bn_moving_var"]))
        sym, arg_params, aux_params = mx.load_checkpoint(prefix, 7)
        @test mx.list_arguments(sym) == mx.list_arguments(net)
        @test all(copy(arg_params[k]) == copy(v) for (k, v) in args) && length(arg_params) == 4
        @test all(copy(aux_params[k]) == copy(v) for (k, v) in aux) && length(aux_params) == 2
    end

    @testset "an interrupted write keeps the old file" begin
        dir = mktempdir()
        path = joinpath(dir, "f.params")
        mx.write_atomically(tmp -> write(tmp, "old"), path)
        @test_throws ErrorException mx.write_atomically(path) do tmp
            write(tmp, "half of the new")
            error("killed")
        end
        @test read(path, String) == "old"
        @test readdir(dir) == ["f.params"]
    end
end

# ----- reliability: full disks, interrupted writes, stale temporary files ---------------

# Runs `f(dir)` with `dir` a fresh tmpfs of `size`, or returns false when mounting is not
# permitted here (it needs root, or CAP_SYS_ADMIN).
function with_tmpfs(f, size::AbstractString)
    dir = mktempdir()
    mounted = success(pipeline(`mount -t tmpfs -o size=$size tmpfs $dir`; stderr = devnull))
    if !mounted
        rm(dir; recursive = true, force = true)
        return false
    end
    try
        f(dir)
    finally
        run(pipeline(`umount $dir`; stderr = devnull); wait = true)
        rm(dir; recursive = true, force = true)
    end
    return true
end

# Fills the filesystem of `dir` to its last byte.
function fill_disk(dir)
    chunk = Base.zeros(UInt8, 64 * 1024)
    open(joinpath(dir, "filler"), "w") do io
        while true
            write(io, chunk) == length(chunk) || break
            try
                flush(io)
            catch e
                e isa SystemError || rethrow()
                break
            end
        end
    end
    return nothing
end

# The exception `f()` throws, or nothing.
caught(f) = try
    f()
    nothing
catch e
    e
end

temps(dir) = filter(name -> occursin(".tmp", name), readdir(dir))

@testset "checkpoint reliability" begin
    net = mx.FullyConnected(mx.Variable(:data); num_hidden = 3, name = :fc)
    args = Dict(:fc_weight => mx.NDArray(rand(Float32, 4, 3)), :fc_bias => mx.NDArray(rand(Float32, 3)))

    @testset "the symbol file is libmxnet's JSON, written and flushed by Julia" begin
        prefix = joinpath(mktempdir(), "net")
        mx.save_checkpoint(net, prefix, 1, args, Dict{Symbol,mx.NDArray}())
        @test read("$prefix-symbol.json", String) == mx.to_json(net)
        @test mx.list_arguments(mx.load("$prefix-symbol.json", mx.SymbolicNode)) == mx.list_arguments(net)
    end

    @testset "an interrupt passes through and leaves no temporary file" begin
        dir = mktempdir()
        path = joinpath(dir, "f.params")
        @test_throws InterruptException mx.write_atomically(path) do tmp
            write(tmp, "half")
            throw(InterruptException())
        end
        @test readdir(dir) == []
    end

    @testset "another write failure is one sentence naming the file" begin
        path = joinpath(mktempdir(), "no-such-folder", "net-0001.params")
        err = caught(() -> mx.write_atomically(tmp -> mx.save(tmp, args), path))
        @test err isa PyJLChar.UserError
        msg = sprint(showerror, err)
        @test occursin("cannot write $path (libmxnet: ", msg) && !occursin('\n', msg)
        @test !occursin("disk is full", msg)
    end

    @testset "sizes in messages" begin
        @test mx.format_bytes(1000) == "1000 bytes" && mx.format_bytes(5000) == "4 KiB"
        @test mx.format_bytes(7 * 2^20 ÷ 2) == "3.5 MiB"   # mx.round is libmxnet's operator, not Base's
    end

    @testset "a full disk never commits a short file" begin
        big = Dict(:w => mx.NDArray(rand(Float32, 256, 256)))   # 256 KiB: more than the disk
        small = Dict(:w => mx.NDArray(rand(Float32, 4)))       # fits in libmxnet's write buffer
        # Each writer as the code base uses them, on a disk filled after a good first version.
        writers = [
            ("net-symbol.json", "a checkpoint (Julia writes the JSON)",
             path -> mx.save_checkpoint(net, path[1:end-length("-symbol.json")], 1, args, Dict{Symbol,mx.NDArray}())),
            ("big.params", "libmxnet's MXNDArraySave, which fails",
             path -> mx.write_atomically(tmp -> mx.save(tmp, big), path)),
            ("small.params", "libmxnet's MXNDArraySave, which leaves an empty file without an error",
             path -> mx.write_atomically(tmp -> mx.save(tmp, small), path)),
            ("small.json", "a Julia write that fails when the file is closed",
             path -> mx.write_atomically(tmp -> open(io -> write(io, "{\"new\": 1}"), tmp, "w"), path)),
            ("large.json", "a Julia write that loses data without an error",
             path -> mx.write_atomically(tmp -> open(io -> write(io, Base.zeros(UInt8, 512 * 1024)), tmp, "w"), path)),
        ]
        mounted = with_tmpfs("256k") do dir
            for (name, _, _) in writers   # the good versions
                write(joinpath(dir, name), "the good version of $name")
            end
            fill_disk(dir)
            for (name, how, save) in writers
                path = joinpath(dir, name)
                err = caught(() -> save(path))
                @test err isa PyJLChar.UserError
                msg = sprint(showerror, err)
                ok = occursin("cannot write $path: the disk is full", msg) && occursin("free some space", msg) &&
                     !occursin('\n', msg)
                ok || @error "$how: $msg"
                @test ok
                @test read(path, String) == "the good version of $name"
                @test isempty(temps(dir))
            end
            # The writers themselves report the short file, without write_atomically's check.
            err = caught(() -> mx.save(joinpath(dir, "direct.params"), small))
            @test err isa mx.MXError && occursin("direct.params came out incomplete", err.msg)
            err = caught(() -> mx.write_checked(joinpath(dir, "direct.json"), mx.to_json(net)))
            @test err isa SystemError && err.errnum == Libc.ENOSPC
            # With space again, the same writes succeed.
            rm(joinpath(dir, "filler"))
            mx.save_checkpoint(net, joinpath(dir, "net"), 1, args, Dict{Symbol,mx.NDArray}())
            @test read(joinpath(dir, "net-symbol.json"), String) == mx.to_json(net)
            @test copy(mx.load(joinpath(dir, "net-0001.params"), mx.NDArray)[Symbol("arg:fc_bias")]) == copy(args[:fc_bias])
            @test isempty(temps(dir))
        end
        if !mounted
            @warn "skipped the full-disk test: mounting a tmpfs is not permitted here (needs root)"
            @test_skip mounted
        end
    end

    @testset "stale temporary files are cleared, a live writer's are not" begin
        dir = mktempdir()
        dead = parse(Int, read(`sh -c 'echo $$'`, String))   # a process that has ended
        name(file, pid) = replace(basename(mx.temp_path(joinpath(dir, file))), string(getpid()) => string(pid))
        stale = name("a.params", dead)
        mine = name("b.params", getpid())            # being written by this process now
        reused = name("c.params", getpid())          # this pid's, but older than this process
        init = name("d.params", 1)                   # pid 1 is alive and started long ago
        others = ["f.params", ".hidden", ".e.params.tmpabc", ".g.params.tmp0"]
        for file in [stale, mine, reused, init, others...]
            write(joinpath(dir, file), "x")
        end
        mkdir(joinpath(dir, name("folder", dead)))
        run(`touch -d "1 hour ago" $(joinpath(dir, reused))`)
        removed = mx.clear_stale_temps(dir)
        @test sort(removed) == sort(joinpath.(dir, [stale, reused]))
        @test sort(readdir(dir)) == sort([mine, init, others..., name("folder", dead)])
        @test mx.clear_stale_temps(dir) == []
        @test mx.clear_stale_temps(joinpath(dir, "none")) == []
    end

    @testset "a save killed by kill -9 leaves a temporary file, cleared once its writer is gone" begin
        dir = mktempdir()
        path = joinpath(dir, "net-0001.params")
        code = "using PyJLChar; PyJLChar.mx.write_atomically(tmp -> (write(tmp, \"half\"); sleep(600)), $(repr(path)))"
        writer = run(pipeline(`$(Base.julia_cmd()) --startup-file=no -e $code`; stderr = devnull); wait = false)
        deadline = time() + 300
        while isempty(temps(dir)) && process_running(writer) && time() < deadline
            sleep(0.2)
        end
        left = joinpath.(dir, temps(dir))
        @test length(left) == 1 && basename(left[1]) == ".net-0001.params.tmp$(getpid(writer))"
        @test mx.clear_stale_temps(dir) == []   # its writer is still at work
        kill(writer, Base.SIGKILL)
        wait(writer)
        @test mx.clear_stale_temps(dir) == left
        @test readdir(dir) == []
    end
end
