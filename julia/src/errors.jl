"""
A failure the user can fix (bad configuration, corpus or checkpoint). The message is one
sentence naming the problem and the fix; the command line shows it without a backtrace.
"""
struct UserError <: Exception
    msg::String
end
Base.showerror(io::IO, e::UserError) = print(io, e.msg)
