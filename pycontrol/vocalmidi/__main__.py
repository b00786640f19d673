from vocalmidi.cli.main import main

if __name__ == "__main__":  # spawned --jobs workers import this module too
    raise SystemExit(main())
