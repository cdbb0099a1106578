// Runs every query of the cross-check suite on Apache Jena (ARQ) in one JVM.
//
//   java -cp <xerces bundles>:<jena jars> tests/jena/RunQueries.java STORE.nq OUT_DIR Q1.rq Q2.rq ...
//
// (Java 11+ runs a single source file without a build step.) STORE.nq is the
// exported store: every quad in a named graph. Catalograph's endpoint answers
// from the union of the named graphs, so the runner makes the default graph the
// RDF merge of the named graphs (each distinct triple once: a Jena graph is a
// set), which is the dataset TDB2 answers with tdb:unionDefaultGraph. For each
// query NAME.rq it writes OUT_DIR/NAME.srj (SELECT, ASK: SPARQL JSON results) or
// OUT_DIR/NAME.nt (CONSTRUCT, DESCRIBE: N-Triples), or OUT_DIR/NAME.error with
// the message, and OUT_DIR/timings.tsv (loading, then each query, in seconds).
//
// The store is parsed into a general in-memory dataset (a map of graphs) rather
// than RDFDataMgr.loadDataset's transactional one: on the 560,000 quads of the
// full cross-check store that takes 6 s instead of 22 s. Starting the JVM once
// for every query keeps the whole run in seconds.

import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

import org.apache.jena.graph.GraphUtil;
import org.apache.jena.query.Dataset;
import org.apache.jena.query.DatasetFactory;
import org.apache.jena.query.Query;
import org.apache.jena.query.QueryExecution;
import org.apache.jena.query.QueryExecutionFactory;
import org.apache.jena.query.QueryFactory;
import org.apache.jena.query.ResultSetFormatter;
import org.apache.jena.riot.Lang;
import org.apache.jena.riot.RDFDataMgr;
import org.apache.jena.riot.RDFParser;
import org.apache.jena.sparql.core.DatasetGraph;
import org.apache.jena.sparql.core.DatasetGraphFactory;

public class RunQueries {
    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: RunQueries STORE.nq OUT_DIR QUERY.rq...");
            System.exit(2);
        }
        long start = System.nanoTime();
        DatasetGraph graphs = DatasetGraphFactory.create();
        RDFParser.source(args[0]).lang(Lang.NQUADS).parse(graphs);
        if (!graphs.getDefaultGraph().isEmpty()) {
            System.err.println("the export holds triples outside every named graph");
            System.exit(1);
        }
        GraphUtil.addInto(graphs.getDefaultGraph(), graphs.getUnionGraph());
        Dataset dataset = DatasetFactory.wrap(graphs);
        Path out = Paths.get(args[1]);
        try (PrintWriter timings = new PrintWriter(Files.newBufferedWriter(out.resolve("timings.tsv")))) {
            timings.printf("(load)\t%.3f%n", (System.nanoTime() - start) / 1e9);
            for (int i = 2; i < args.length; i++) {
                Path file = Paths.get(args[i]);
                String name = file.getFileName().toString().replaceFirst("\\.rq$", "");
                long began = System.nanoTime();
                try {
                    run(file, name, dataset, out);
                } catch (Exception error) {
                    Files.writeString(out.resolve(name + ".error"), String.valueOf(error), StandardCharsets.UTF_8);
                }
                timings.printf("%s\t%.3f%n", name, (System.nanoTime() - began) / 1e9);
            }
        }
    }

    static void run(Path file, String name, Dataset dataset, Path out) throws Exception {
        Query query = QueryFactory.create(Files.readString(file, StandardCharsets.UTF_8));
        boolean graph = query.isConstructType() || query.isDescribeType();
        try (QueryExecution execution = QueryExecutionFactory.create(query, dataset);
             OutputStream stream = Files.newOutputStream(out.resolve(name + (graph ? ".nt" : ".srj")))) {
            if (query.isSelectType()) {
                ResultSetFormatter.outputAsJSON(stream, execution.execSelect());
            } else if (query.isAskType()) {
                ResultSetFormatter.outputAsJSON(stream, execution.execAsk());
            } else if (query.isConstructType()) {
                RDFDataMgr.write(stream, execution.execConstruct(), Lang.NTRIPLES);
            } else {
                RDFDataMgr.write(stream, execution.execDescribe(), Lang.NTRIPLES);
            }
        }
    }
}
