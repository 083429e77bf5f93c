# One writer per run, in a folder it can write.
@testset "run lock" begin
    @testset "check_writable: found before any training" begin
        dir = mktempdir()
        CharLSTM.check_writable(joinpath(dir, "new", "folder"))
        @test isdir(joinpath(dir, "new", "folder")) && isempty(readdir(joinpath(dir, "new", "folder")))
        write(joinpath(dir, "a-file"), "x")
        @test occursin("a-file is a file", user_error(() -> CharLSTM.check_writable(joinpath(dir, "a-file", "sub"))))
        ro = joinpath(dir, "read-only")
        mkdir(ro)
        chmod(ro, 0o555)
        # root writes anywhere; the test means something only for other users
        if !(try; write(joinpath(ro, "probe"), ""); true; catch; false; end)
            @test occursin("cannot write checkpoints in $ro", user_error(() -> CharLSTM.check_writable(ro)))
        end
    end

    @testset "with_run_lock: one writer, a dead writer's lock taken over" begin
        prefix = joinpath(mktempdir(), "ptb")
        inside = CharLSTM.with_run_lock(prefix) do
            # A second writer, even in this process (flock is per open file), is refused.
            user_error(() -> CharLSTM.with_run_lock(() -> nothing, prefix))
        end
        @test occursin("another process (pid $(getpid())) is training the run at $prefix", inside)
        @test read(CharLSTM.lock_path(prefix), String) == ""   # released in order
        write(CharLSTM.lock_path(prefix), "999999999")         # left by a process that is gone
        @test quiet(() -> CharLSTM.with_run_lock(() -> :ran, prefix)) == :ran
    end
end
