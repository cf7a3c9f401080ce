"""What runs inside a student's kernel: the grader's agent and the protocol.

The sandbox mounts this folder, alone, as the package ``kit_agent``
(:data:`protocol.PACKAGE`), so nothing here may import anything of the kit's: only
the standard library, numpy and each other, relatively.
"""
