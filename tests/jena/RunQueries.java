// Runs every query of the cross-check suite on Apache Jena (ARQ) in one JVM.
//
//   java -cp <xerces bundles>:<jena jars> tests/jena/RunQueries.java DATA.nq OUT_DIR Q1.rq Q2.rq ...
//
// (Java 11+ runs a single source file without a build step.) DATA.nq is the
// exported store with the union of its named graphs written out as the default
// graph, which is what Catalograph's endpoint answers from. For each query NAME.rq
// it writes OUT_DIR/NAME.srj (SELECT, ASK: SPARQL JSON results) or OUT_DIR/NAME.nt
// (CONSTRUCT, DESCRIBE: N-Triples), or OUT_DIR/NAME.error with the message.
// Starting the JVM once instead of once per query keeps the test well under a minute.

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

import org.apache.jena.query.Dataset;
import org.apache.jena.query.Query;
import org.apache.jena.query.QueryExecution;
import org.apache.jena.query.QueryExecutionFactory;
import org.apache.jena.query.QueryFactory;
import org.apache.jena.query.ResultSetFormatter;
import org.apache.jena.riot.Lang;
import org.apache.jena.riot.RDFDataMgr;

public class RunQueries {
    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: RunQueries DATA.nq OUT_DIR QUERY.rq...");
            System.exit(2);
        }
        Dataset dataset = RDFDataMgr.loadDataset(args[0]);
        Path out = Paths.get(args[1]);
        for (int i = 2; i < args.length; i++) {
            Path file = Paths.get(args[i]);
            String name = file.getFileName().toString().replaceFirst("\\.rq$", "");
            try {
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
            } catch (Exception error) {
                Files.writeString(out.resolve(name + ".error"), String.valueOf(error), StandardCharsets.UTF_8);
            }
        }
    }
}
