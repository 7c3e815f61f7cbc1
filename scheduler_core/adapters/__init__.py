"""The only code that imports azure.*: Table Storage, Storage Queue, outbound actions."""
